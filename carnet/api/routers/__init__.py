"""One router per journey of the patient API; each endpoint calls one domain action."""
