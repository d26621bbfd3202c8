assistant-panel = Assistant
assistant-on-selection = Sur la sélection
assistant-on-document = Sur le document
assistant-translate-to = Traduire en
assistant-other-language = Autre langue…
assistant-language-name = Langue
assistant-translate = Traduire
assistant-prompt = Demander à l'assistant
assistant-prompt-placeholder = Que doit faire l'assistant ?
assistant-send = Envoyer
assistant-stop = Arrêter
assistant-conversation = Conversation avec l'assistant
assistant-empty = Sélectionnez du texte dans l'éditeur puis choisissez une action, ou posez une question.
assistant-clear = Effacer la conversation
assistant-waiting = En attente du modèle…
assistant-writing = Rédaction…
assistant-preparing-edits = { $n ->
    [one] Préparation des modifications… ({ $n } caractère)
   *[other] Préparation des modifications… ({ $n } caractères)
}
assistant-preview = Modifications proposées
assistant-preview-private = Vous seul voyez cet aperçu tant que vous ne l'acceptez pas.
assistant-block-changed = Modifié
assistant-block-added = Ajouté
assistant-block-deleted = Supprimé
assistant-block-stale = Quelqu'un a modifié ce bloc depuis la demande : il ne sera pas changé.
assistant-deleted-text = supprimé
assistant-inserted-text = inséré
assistant-accept = Accepter
assistant-reject = Refuser
assistant-insert-below = Insérer en dessous
assistant-replace-selection = Remplacer la sélection
assistant-undo = Annuler
assistant-applied = { $n ->
    [one] Appliqué ({ $n } bloc).
   *[other] Appliqué ({ $n } blocs).
}
assistant-rejected = Refusé : le document est inchangé.
assistant-undone = Annulé.
assistant-stopped = Arrêté.
assistant-dropped = Non appliqué : « { $text } » a été modifié par quelqu'un depuis la demande.
assistant-nothing-applied = Rien n'a été appliqué.
assistant-refused-operations = { $n ->
    [one] { $n } modification proposée a été refusée : { $reasons }
   *[other] { $n } modifications proposées ont été refusées : { $reasons }
}
assistant-refused-call = La modification du modèle est inutilisable : { $reason }
assistant-no-change = La réponse ne propose aucune modification.
assistant-empty-answer = Le modèle a donné une réponse vide.
assistant-no-selection = Sélectionnez d'abord du texte dans l'éditeur.
assistant-empty-document = Le document est vide.
assistant-busy-here = Attendez la réponse en cours, ou arrêtez-la.
assistant-read-only = Lecture seule : l'assistant ne peut pas modifier ce document.
assistant-apply-failed = La modification n'a pas pu être appliquée : { $reason }
assistant-you = Vous
assistant-assistant = Assistant
assistant-errors-timeout = Le modèle a mis trop de temps à répondre. Réessayez.
assistant-errors-key-refused = Le serveur du modèle a refusé la clé du serveur. Demandez à votre administrateur de vérifier la configuration de l'IA.
assistant-errors-rate-limited = Trop de demandes { $scope }. { $wait }
assistant-errors-scope-user = de votre part
assistant-errors-scope-document = sur ce document
assistant-errors-scope-model = au serveur du modèle
assistant-errors-wait-secs = Réessayez dans { $secs } s.
assistant-errors-wait-later = Réessayez plus tard.
assistant-errors-model-missing = Aucun modèle d'IA n'est installé sur ce serveur (scripts/fetch-model.sh récupère celui par défaut).
assistant-errors-model-loading = Le modèle d'IA est en cours de chargement. Réessayez dans quelques secondes.
assistant-errors-model-failed = Le modèle d'IA n'a pas pu être chargé sur le serveur.
assistant-errors-ai-off = L'IA est désactivée sur ce serveur.
assistant-errors-busy = Le modèle d'IA est occupé. Réessayez dans un instant.
assistant-errors-malformed = La réponse est illisible (ce n'est pas le format attendu).
assistant-errors-unreachable = Le serveur du modèle est injoignable.
assistant-errors-upstream = Le serveur du modèle a signalé une erreur : { $message }
assistant-errors-network = Le serveur d'IA est injoignable. Vérifiez votre connexion.
assistant-errors-unauthenticated = Vous n'êtes pas connecté (ou votre session a expiré).
assistant-errors-forbidden = Il faut le droit de modifier ce document pour utiliser l'assistant.
assistant-errors-too-large = La demande est trop grande : sélectionnez moins de texte.
assistant-errors-invalid-request = Le serveur a refusé la demande : { $message }
assistant-errors-other = La demande d'IA a échoué ({ $status }) : { $message }
assistant-errors-other-status = La demande d'IA a échoué (statut HTTP { $status }).
