package dev.lagscaler.trigger;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Reads one trigger parameter from where KEDA looks for it, in KEDA's order, and converts it with KEDA's rules.
 * Blank values count as absent. Every error names the parameter, and quotes the value only when it came from the
 * trigger's metadata: a value from a TriggerAuthentication or the container's environment may be a Secret.
 */
final class ParameterReader {
    /** The most partitions a partitionLimitation may list: bounds the set a range like 0-2147483647 would make. */
    static final int MAX_LISTED_PARTITIONS = 100_000;

    /** Where a parameter may come from, in the order it is looked up. */
    enum Sources {
        /** The trigger's metadata, then {@code <name>FromEnv} naming a variable of the target's container. */
        METADATA_OR_ENV,
        /** The trigger's metadata only. */
        METADATA,
        /** The trigger's metadata, then the resolved auth params (KEDA's order for {@code sasl}, {@code tls}, ...). */
        METADATA_THEN_AUTH,
        /** The resolved auth params (TriggerAuthentication) only: credentials are never read from metadata. */
        AUTH
    }

    private final TriggerInput input;

    ParameterReader(TriggerInput input) {
        this.input = input;
    }

    String optional(String name, Sources sources) throws TriggerParseException {
        String value = switch (sources) {
            case METADATA -> input.metadata().get(name);
            case METADATA_OR_ENV -> fromMetadataOrEnv(name);
            case METADATA_THEN_AUTH -> {
                String metadata = input.metadata().get(name);
                yield isBlank(metadata) ? input.authParams().get(name) : metadata;
            }
            case AUTH -> input.authParams().get(name);
        };
        return isBlank(value) ? null : value.trim();
    }

    String required(String name, Sources sources) throws TriggerParseException {
        String value = optional(name, sources);
        if (value == null) {
            throw new TriggerParseException("no " + name + " given: " + name + " is required"
                    + (sources == Sources.METADATA_OR_ENV ? " (or " + name + "FromEnv)" : ""));
        }
        return value;
    }

    String orDefault(String name, Sources sources, String defaultValue) throws TriggerParseException {
        String value = optional(name, sources);
        return value == null ? defaultValue : value;
    }

    long longValue(String name, long defaultValue) throws TriggerParseException {
        String value = optional(name, Sources.METADATA);
        if (value == null) {
            return defaultValue;
        }
        try {
            return Long.parseLong(value);
        } catch (NumberFormatException e) {
            throw new TriggerParseException(name + ": \"" + value + "\" is not a whole number");
        }
    }

    boolean bool(String name, Sources sources) throws TriggerParseException {
        String value = optional(name, sources);
        if (value == null) {
            return false;
        }
        try {
            return parseBool(name, value);
        } catch (TriggerParseException e) {
            throw new TriggerParseException(name + ": " + shown(name, sources, value) + " is not a boolean (true or false)");
        }
    }

    /** One of {@code allowed} (case as written), or the default when absent. */
    String oneOf(String name, Sources sources, String defaultValue, List<String> allowed) throws TriggerParseException {
        String value = orDefault(name, sources, defaultValue);
        if (!allowed.contains(value)) {
            throw new TriggerParseException(name + ": " + shown(name, sources, value) + " is not one of "
                    + String.join(", ", allowed));
        }
        return value;
    }

    /**
     * How an error shows a value: quoted when it came from the trigger's metadata (the user wrote it in the
     * ScaledObject), described by its source otherwise, so a Secret mapped to the wrong parameter never reaches a
     * status condition, an Event or a log line.
     */
    String shown(String name, Sources sources, String value) {
        boolean fromMetadata = switch (sources) {
            case METADATA -> true;
            case METADATA_OR_ENV -> !isBlank(input.metadata().get(name));
            case METADATA_THEN_AUTH -> !isBlank(input.metadata().get(name));
            case AUTH -> false;
        };
        if (fromMetadata) {
            return "\"" + value + "\"";
        }
        return sources == Sources.METADATA_OR_ENV ? "the value of " + name + "FromEnv"
                : "the value from the TriggerAuthentication";
    }

    /** A list like {@code 1,2,10-12}: ids and inclusive ranges. */
    Set<Integer> intRanges(String name) throws TriggerParseException {
        String value = optional(name, Sources.METADATA);
        Set<Integer> result = new LinkedHashSet<>();
        if (value == null) {
            return result;
        }
        for (String raw : value.split(",")) {
            String item = raw.trim();
            if (item.isEmpty()) {
                continue;
            }
            int dash = item.indexOf('-', 1);
            try {
                int from = Integer.parseInt((dash < 0 ? item : item.substring(0, dash)).trim());
                int to = dash < 0 ? from : Integer.parseInt(item.substring(dash + 1).trim());
                if (from < 0) {
                    throw new TriggerParseException(name + ": \"" + item + "\": partition ids are zero or more");
                }
                if (from > to) {
                    throw new TriggerParseException(name + ": range \"" + item + "\" starts after it ends");
                }
                if ((long) to - from + 1 + result.size() > MAX_LISTED_PARTITIONS) {
                    throw new TriggerParseException(name + ": lists more than " + MAX_LISTED_PARTITIONS
                            + " partitions (\"" + item + "\")");
                }
                for (long i = from; i <= to; i++) {
                    result.add((int) i);
                }
            } catch (NumberFormatException e) {
                throw new TriggerParseException(name + ": \"" + item + "\" is neither a partition id nor a range like 10-12");
            }
        }
        return result;
    }

    /** Comma-separated items, trimmed, blanks dropped. */
    List<String> list(String name, Sources sources) throws TriggerParseException {
        String value = optional(name, sources);
        List<String> items = new ArrayList<>();
        if (value != null) {
            for (String item : value.split(",")) {
                if (!item.isBlank()) {
                    items.add(item.trim());
                }
            }
        }
        return items;
    }

    /** {@code k1=v1,k2=v2}, as KEDA reads oauthExtensions. */
    Map<String, String> keyValues(String name, Sources sources) throws TriggerParseException {
        Map<String, String> result = new LinkedHashMap<>();
        for (String pair : list(name, sources)) {
            int eq = pair.indexOf('=');
            if (eq <= 0) {
                throw new TriggerParseException(name + ": " + shown(name, sources, pair) + " is not a key=value pair");
            }
            result.put(pair.substring(0, eq).trim(), pair.substring(eq + 1).trim());
        }
        return result;
    }

    /** Only {@code <name>FromEnv}: for secrets KEDA never reads from plain metadata. */
    String fromEnvOnly(String name) throws TriggerParseException {
        Map<String, String> withoutPlain = new java.util.HashMap<>(input.metadata());
        withoutPlain.remove(name);
        String value = new ParameterReader(new TriggerInput(withoutPlain, input.authParams(), input.resolvedEnv(),
                input.metricType())).fromMetadataOrEnv(name);
        return isBlank(value) ? null : value.trim();
    }

    private String fromMetadataOrEnv(String name) throws TriggerParseException {
        String value = input.metadata().get(name);
        if (!isBlank(value)) {
            return value;
        }
        String envName = input.metadata().get(name + "FromEnv");
        if (isBlank(envName)) {
            return null;
        }
        String fromEnv = input.resolvedEnv().get(envName.trim());
        if (isBlank(fromEnv)) {
            throw new TriggerParseException(name + "FromEnv: environment variable \"" + envName.trim()
                    + "\" is not set on the target's container");
        }
        return fromEnv;
    }

    /** Go's strconv.ParseBool, which KEDA uses: 1, t, T, TRUE, true, True and their false forms. */
    static boolean parseBool(String name, String value) throws TriggerParseException {
        switch (value) {
            case "1", "t", "T", "TRUE", "true", "True":
                return true;
            case "0", "f", "F", "FALSE", "false", "False":
                return false;
            default:
                throw new TriggerParseException(name + ": \"" + value + "\" is not a boolean (true or false)");
        }
    }

    private static boolean isBlank(String value) {
        return value == null || value.isBlank();
    }

}
