gallery-title = Atelier — Galerie
