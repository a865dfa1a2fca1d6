"""Who may do what on a space: the one policy function, and the access events it leaves."""
