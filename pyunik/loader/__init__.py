"""Loading programs: ELF images and the initial stack."""
