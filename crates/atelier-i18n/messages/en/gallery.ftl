### The gallery page's strings.

# The page's title.
gallery-title = Atelier — gallery
