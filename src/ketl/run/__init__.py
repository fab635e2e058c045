"""ketl.run"""
