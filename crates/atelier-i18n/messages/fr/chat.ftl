chat-panel = Discussion
chat-log = Messages
chat-empty = Aucun message pour l’instant.
chat-composer = Message
chat-placeholder = Écrire un message…
chat-composer-hint = Entrée envoie, Maj+Entrée passe à la ligne, Échap annule une réponse ou une modification. Tapez @ pour mentionner quelqu’un.
chat-send = Envoyer
chat-save = Enregistrer
chat-cancel = Annuler
chat-replying-to = Réponse à { $name }
chat-editing = Modification de votre message
chat-reply = Répondre
chat-react = Ajouter une réaction
chat-edit = Modifier
chat-delete = Supprimer
chat-delete-confirm = Supprimer ce message ?
chat-keep = Conserver
chat-actions = Actions sur le message
chat-deleted = Message supprimé
chat-edited = (modifié)
chat-pending = Pas encore envoyé
chat-refused = Non remis à Matrix
chat-refused-reason = Le salon Matrix a refusé ce message : { $reason }
chat-replies = { $n ->
    [one] { $n } réponse
   *[other] { $n } réponses
}
chat-thread = Fil de discussion
chat-back = Retour à tous les messages
chat-in-reply-to = En réponse à { $name }
chat-parent-missing = Message d’origine indisponible
chat-reactions = Réactions
chat-reacted-by = { $names } a réagi avec { $emoji }
chat-picker = Choisir une réaction
chat-unread-marker = Nouveaux messages
chat-unread-count = { $n ->
    [one] { $n } non lu
   *[other] { $n } non lus
}
chat-jump-latest = Aller aux derniers messages
chat-today = Aujourd’hui
chat-yesterday = Hier
chat-typing-one = { $a } est en train d’écrire…
chat-typing-two = { $a } et { $b } sont en train d’écrire…
chat-typing-many = Plusieurs personnes sont en train d’écrire…
chat-here = Présents
chat-you = (vous)
chat-offline = Hors ligne : vos messages partiront dès le retour de la connexion.
chat-read-only = Vous pouvez lire cette discussion mais pas y écrire.
chat-too-long = { $n ->
    [one] Ce message est trop long : { $n } octet, la limite est de { $max }.
   *[other] Ce message est trop long : { $n } octets, la limite est de { $max }.
}
chat-failed = Impossible : { $reason }
chat-mentions = Personnes à mentionner
chat-someone = Quelqu’un
chat-denied = Vous n’avez pas accès à cette discussion.
