"""The kernel: what every app shares and nothing in it imports an app (errors, the contract base)."""
