package dev.lagscaler.trigger;

import java.util.Locale;
import java.util.Set;

/**
 * Every metadata key a kafka trigger reads (KEDA 2.21's and lagscaler's two extensions), and the check that turns a
 * misspelt one into an error. KEDA ignores keys it does not know (it only reports them behind a feature flag), so a
 * key far from every known name is ignored here too; a key within two edits of a known one is a typo that would
 * silently leave the intended parameter at its default, and is refused with the name it most likely meant.
 */
public final class KafkaParameterNames {
    static final Set<String> KNOWN = Set.of(
            "bootstrapServers", "consumerGroup", "topic", "partitionLimitation", "lagThreshold", "activationLagThreshold",
            "offsetResetPolicy", "allowIdleConsumers", "excludePersistentLag", "scaleToZeroOnInvalidOffset",
            "limitToPartitionsWithLag", "ensureEvenDistributionOfPartitions", "fullMetadata", "version",
            "tls", "unsafeSsl", "ca", "cert", "key", "keyPassword", "sasl", "username", "password", "saslTokenProvider",
            "scopes", "oauthTokenEndpointUri", "oauthExtensions", "keytab", "ccacheName", "realm", "kerberosConfig",
            "kerberosServiceName", "kerberosDisableFAST", "awsRegion", "awsRoleArn", "awsAccessKeyID", "awsAccessKeyId",
            "awsSecretAccessKey", "awsSessionToken", "identityOwner",
            // lagscaler's extensions (README: "Beyond KEDA")
            "lagSecondsThreshold", "activationLagSecondsThreshold", "drainWithinSeconds");
    private static final int MAX_EDITS = 2;
    private static final int MIN_LENGTH_FOR_TYPOS = 5;

    private KafkaParameterNames() {
    }

    /** Refuses a metadata key that is a near miss of a known one; {@code xFromEnv} is checked as {@code x}. */
    static void rejectTypos(Iterable<String> keys) throws TriggerParseException {
        for (String key : keys) {
            String name = key.endsWith("FromEnv") ? key.substring(0, key.length() - "FromEnv".length()) : key;
            if (KNOWN.contains(name) || name.length() < MIN_LENGTH_FOR_TYPOS) {
                continue;
            }
            String meant = closest(name);
            if (meant != null) {
                throw new TriggerParseException("unknown parameter \"" + key + "\": did you mean \"" + meant
                        + (key.equals(name) ? "" : "FromEnv") + "\"? (as written it would be ignored)");
            }
        }
    }

    /** The known name within {@link #MAX_EDITS} edits (ignoring case), or null. */
    static String closest(String name) {
        String best = null;
        int bestDistance = MAX_EDITS + 1;
        for (String known : KNOWN) {
            if (known.length() < MIN_LENGTH_FOR_TYPOS) {
                continue;
            }
            int d = distance(name.toLowerCase(Locale.ROOT), known.toLowerCase(Locale.ROOT));
            if (d < bestDistance) {
                bestDistance = d;
                best = known;
            }
        }
        return best;
    }

    /** Levenshtein distance. */
    static int distance(String a, String b) {
        int[] previous = new int[b.length() + 1];
        int[] current = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) {
            previous[j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            current[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                int substitution = previous[j - 1] + (a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1);
                current[j] = Math.min(substitution, Math.min(previous[j] + 1, current[j - 1] + 1));
            }
            int[] swap = previous;
            previous = current;
            current = swap;
        }
        return previous[b.length()];
    }
}
