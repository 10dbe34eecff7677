package dev.lagscaler;

import dev.lagscaler.trigger.TriggerParseException;
import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Parses durations the way Kubernetes users write them: 500ms, 5s, 2m, 1h. */
public final class Durations {
    /** At most nine digits: any longer number is a mistake, and would overflow. */
    private static final Pattern FORM = Pattern.compile("(\\d{1,9})(ms|s|m|h)");

    private Durations() {
    }

    public static Duration parse(String name, String text) throws TriggerParseException {
        Matcher m = FORM.matcher(text.trim());
        if (!m.matches()) {
            throw new TriggerParseException(name + ": \"" + text + "\" is not a duration like 500ms, 5s, 2m or 1h");
        }
        long n = Long.parseLong(m.group(1));
        return switch (m.group(2)) {
            case "ms" -> Duration.ofMillis(n);
            case "s" -> Duration.ofSeconds(n);
            case "m" -> Duration.ofMinutes(n);
            default -> Duration.ofHours(n);
        };
    }
}
