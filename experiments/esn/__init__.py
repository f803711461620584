"""Echo state networks: memory capacity, NARMA-10 and Mackey-Glass (Jaeger 2001, 2002)."""
