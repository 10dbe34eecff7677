package dev.lagscaler.trigger;

import java.util.Map;

/**
 * What a trigger is parsed from: its {@code metadata}, the auth params resolved from its authenticationRef, the
 * environment of the target's container (for {@code ...FromEnv} parameters) and its {@code metricType}.
 */
public record TriggerInput(Map<String, String> metadata, Map<String, String> authParams,
                           Map<String, String> resolvedEnv, String metricType) {
    public TriggerInput {
        metadata = Map.copyOf(metadata);
        authParams = Map.copyOf(authParams);
        resolvedEnv = Map.copyOf(resolvedEnv);
    }

    public static TriggerInput ofMetadata(Map<String, String> metadata) {
        return new TriggerInput(metadata, Map.of(), Map.of(), null);
    }
}
