"""What a file is, from its content: shared by the scanner and discovery (a leaf package).

Only reads bytes it is given; imports nothing but the standard library and
``tutela.errors``, so producers can share it without importing each other.
"""
