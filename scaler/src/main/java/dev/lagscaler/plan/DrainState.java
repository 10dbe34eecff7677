package dev.lagscaler.plan;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.lagscaler.lag.ConsumerHealth;
import dev.lagscaler.lag.TriggerResult;
import dev.lagscaler.scaling.DrainTime;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;

/**
 * A {@code drainWithinSeconds} trigger between reconciles: the per-replica rate last measured, the replica count
 * and since when it has stood, and this pass's sizing (null while a rate is unknown: lagThreshold decides). Kept in
 * the status ({@code health.<metric>}) so a restart or a quiet hour does not forget what a replica can do.
 * A rate replaces the remembered one only when the count has stood for twice the rate window (the window then saw
 * only these replicas: ones just asked for, still starting, do not make each look slow); see
 * {@link DrainTime#perReplica}.
 */
record DrainState(DrainTime.Sizing sizing, Double perReplica, int replicas, Instant replicasSince) {
    static final String RATE = "drainRatePerReplica";
    static final String REPLICAS = "drainReplicas";
    static final String SINCE = "drainReplicasSince";
    static final String SIZING = "drainSizing";

    static DrainState of(ResolvedTrigger.Kafka k, TriggerHealth health, PlanInput in) {
        JsonNode memory = in.status().path("health").path(k.settings().metricName(k.index()));
        Double remembered = memory.path(RATE).isNumber() ? memory.path(RATE).asDouble() : null;
        Instant since = memory.path(REPLICAS).asInt(-1) == in.currentReplicas() ? instant(memory.path(SINCE)) : null;
        if (since == null) {
            since = in.now();
        }
        if (!(health.latest() instanceof TriggerResult.Measured m)) {
            return new DrainState(null, remembered, in.currentReplicas(), since);
        }
        ConsumerHealth.Throughput rates = m.health().throughput();
        boolean settled = rates.windowSeconds() > 0
                && Duration.between(since, in.now()).toMillis() >= 2 * rates.windowSeconds() * 1000;
        Double perReplica = DrainTime.perReplica(rates.saturated(), settled, rates.consumedPerSecond(),
                in.currentReplicas(), remembered);
        DrainTime.Sizing sizing = DrainTime.size(m.lag().rawTotalLag(), rates.producedPerSecond(), perReplica,
                k.settings().drainWithinSeconds(), in.spec().minReplicaCount(), in.spec().maxReplicaCount(),
                k.settings().allowIdleConsumers() ? 0 : m.lag().partitionCount());
        return new DrainState(sizing, perReplica, in.currentReplicas(), since);
    }

    void writeTo(ObjectNode health) {
        if (perReplica != null) {
            health.put(RATE, Math.round(perReplica * 10) / 10.0);
        }
        health.put(REPLICAS, replicas);
        health.put(SINCE, replicasSince.toString());
        health.put(SIZING, sizing != null ? sizing.explanation()
                : "the produce rate or a busy replica's rate is not measured yet: lagThreshold decides");
    }

    private static Instant instant(JsonNode node) {
        try {
            return node.isTextual() ? Instant.parse(node.asText()) : null;
        } catch (DateTimeParseException e) {
            return null;
        }
    }
}
