"""Public intake: a small web server, separate from the staff dashboard and the storage service, that takes what
residents send the agency (a web tip form, Twilio SMS, Meta Page / Instagram webhooks) and spools it to disk. It
holds no token to the storage service and reads nothing back: the engine's `intake` source collects the spool."""
