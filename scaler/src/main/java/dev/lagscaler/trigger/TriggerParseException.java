package dev.lagscaler.trigger;

/** A trigger's metadata or auth params are invalid; the message names the parameter and is safe to show users. */
public final class TriggerParseException extends Exception {
    public TriggerParseException(String message) {
        super(message);
    }
}
