gallery-title = Atelier — galerij
