"""The holder's export ("extraire ses données"): XDM + FHIR Bundle + PDF summary, built in the background."""
