
B
anna.petrova@example.com+79167654321Анна"Петроваtk-2