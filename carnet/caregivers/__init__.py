"""Caregivers (aidants): a holder lets up to three people with an active space help them."""
