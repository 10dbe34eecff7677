package dev.lagscaler.lag;

import java.util.HashMap;
import java.util.Map;

/**
 * The committed offsets a trigger saw at its previous poll, which excludePersistentLag compares against.
 * Immutable: each computation returns the memory for the next one.
 */
public record PersistentLagMemory(Map<TopicPartitionKey, Long> previousCommitted) {
    public static final PersistentLagMemory EMPTY = new PersistentLagMemory(Map.of());

    public PersistentLagMemory {
        previousCommitted = Map.copyOf(previousCommitted);
    }

    PersistentLagMemory with(Map<TopicPartitionKey, Long> updates) {
        if (updates.isEmpty()) {
            return this;
        }
        Map<TopicPartitionKey, Long> merged = new HashMap<>(previousCommitted);
        merged.putAll(updates);
        return new PersistentLagMemory(merged);
    }
}
