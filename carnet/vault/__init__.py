"""The vault: encrypted blob storage with one data key per person (DESIGN.md §3).

Blobs are AES-256-GCM encrypted in authenticated chunks under the person's data key; data keys are
wrapped by a master key from the environment. Destroying a person's data key destroys their blobs
and sealed values everywhere they are copied (crypto-shredding).
"""
