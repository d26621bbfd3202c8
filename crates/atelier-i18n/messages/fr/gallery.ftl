gallery-title = Atelier — galerie
