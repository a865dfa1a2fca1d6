"""Every read and write of the profil médical, one function per use case (faces call these)."""
