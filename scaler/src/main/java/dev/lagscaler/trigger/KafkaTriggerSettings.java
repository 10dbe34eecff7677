package dev.lagscaler.trigger;

import java.util.List;
import java.util.Set;

/**
 * A {@code kafka} trigger as KEDA reads it: validated, immutable, with defaults applied.
 * An empty {@code topic} means every topic the group has committed offsets for. {@code lagSecondsThreshold},
 * {@code activationLagSecondsThreshold} and {@code drainWithinSeconds} are lagscaler's extensions (null: unset).
 */
public record KafkaTriggerSettings(
        List<String> bootstrapServers,
        String consumerGroup,
        String topic,
        Set<Integer> partitionLimitation,
        long lagThreshold,
        long activationLagThreshold,
        OffsetResetPolicy offsetResetPolicy,
        boolean allowIdleConsumers,
        boolean excludePersistentLag,
        boolean scaleToZeroOnInvalidOffset,
        boolean limitToPartitionsWithLag,
        boolean ensureEvenDistributionOfPartitions,
        String version,
        boolean fullMetadata,
        Long lagSecondsThreshold,
        long activationLagSecondsThreshold,
        Long drainWithinSeconds,
        MetricTargetType metricType,
        KafkaAuth auth) {

    public KafkaTriggerSettings {
        bootstrapServers = List.copyOf(bootstrapServers);
        partitionLimitation = Set.copyOf(partitionLimitation);
    }

    public boolean hasTopic() {
        return !topic.isEmpty();
    }

    /** Whether a partition of the trigger's topic counts; partitionLimitation only applies to a named topic. */
    public boolean considersPartition(int partition) {
        return !hasTopic() || partitionLimitation.isEmpty() || partitionLimitation.contains(partition);
    }

    /** KEDA's metric name for this trigger at the given index in the ScaledObject, e.g. {@code s0-kafka-events}. */
    public String metricName(int triggerIndex) {
        return metricName(triggerIndex, topic, consumerGroup);
    }

    /** The same name from raw values (an empty topic means all of the group's topics). */
    public static String metricName(int triggerIndex, String topic, String consumerGroup) {
        String base = !topic.isEmpty() ? "kafka-" + topic : "kafka-" + consumerGroup + "-topics";
        return MetricNames.withIndex(triggerIndex, base);
    }

    /**
     * The metric of lagscaler's time-lag extension ({@code lagSecondsThreshold}): the oldest waiting record's age in
     * seconds, e.g. {@code s0-kafka-events-lag-seconds}; null without the option.
     */
    public String lagSecondsMetricName(int triggerIndex) {
        return lagSecondsThreshold == null ? null : metricName(triggerIndex) + "-lag-seconds";
    }

    /** The settings that decide which Kafka cluster and credentials to use: triggers equal here share a client. */
    public ClusterConnection connection() {
        return new ClusterConnection(bootstrapServers, auth);
    }
}
