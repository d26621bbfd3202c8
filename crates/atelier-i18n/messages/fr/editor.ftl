editor-editor = Éditeur de document
editor-toolbar = Mise en forme
editor-bold = Gras
editor-italic = Italique
editor-underline = Souligné
editor-strike = Barré
editor-code = Code en ligne
editor-link = Lien
editor-link-prompt = Adresse du lien (https://…)
editor-link-refused = Seuls les liens http, https et mailto sont autorisés.
editor-link-hint = Entrée applique, Échap annule ; une adresse vide retire le lien.
editor-undo = Annuler
editor-redo = Rétablir
editor-block-type = Type de bloc
editor-paragraph = Paragraphe
editor-heading1 = Titre 1
editor-heading2 = Titre 2
editor-heading3 = Titre 3
editor-bullet-list = Liste à puces
editor-numbered-list = Liste numérotée
editor-check-list = Liste de tâches
editor-quote = Citation
editor-code-block = Bloc de code
editor-divider = Séparateur
editor-slash-menu = Insérer un bloc
editor-no-result = Aucun résultat
editor-placeholder = Tapez « / » pour les commandes…
editor-words = { $n ->
    [one] { $n } mot
   *[other] { $n } mots
}
editor-done = Fait
editor-unsupported = Bloc non modifiable ici
editor-read-only = Lecture seule
editor-keyboard-hint = Tab indente un bloc et Maj+Tab le désindente ; appuyez sur Échap, puis Tab ou Maj+Tab, pour quitter l’éditeur.
