# Development commands; each one is a script under dev/ (see README.md, "Development").
# Pass arguments with ARGS, e.g. make demo ARGS="--bootstrap-servers 127.0.0.1:9092".
ARGS ?=

.PHONY: test demo broker lint bootstrap jars

test:
	bash dev/test.sh $(ARGS)

demo:
	bash dev/demo.sh $(ARGS)

broker:
	bash dev/broker.sh $(ARGS)

lint:
	bash dev/lint.sh

bootstrap:
	bash dev/bootstrap.sh

jars:
	bash dev/kafka-jars.sh
