package dev.lagscaler.cli;

import dev.lagscaler.lag.LagResult;
import dev.lagscaler.trigger.KafkaTriggerSettings;

/** The arithmetic behind a trigger's metric in words: the answer to "why this number?". */
final class Explanation {
    private Explanation() {
    }

    static String of(KafkaTriggerSettings s, int triggerIndex, LagResult lag) {
        StringBuilder b = new StringBuilder();
        b.append("total lag ").append(lag.rawTotalLag()).append(" over ").append(lag.partitionCount())
                .append(" partitions (").append(lag.partitionsWithLag()).append(" with lag)\n");
        if (lag.upperBound() < 0) {
            b.append("no partition cap: allowIdleConsumers is set\n");
        } else {
            b.append("partition cap: ").append(lag.upperBound()).append(" replicas x lagThreshold ")
                    .append(s.lagThreshold()).append(" = ").append(lag.upperBound() * s.lagThreshold())
                    .append(lag.capped() ? " (applied)\n" : " (not reached)\n");
        }
        if (lag.evenDistributionFactor() >= 0) {
            b.append("even distribution: ").append(lag.evenDistributionFactor()).append(" replicas (a divisor of ")
                    .append(lag.partitionCount()).append(" partitions)\n");
        }
        b.append("metric ").append(s.metricName(triggerIndex)).append(" = ").append(lag.metricValue())
                .append(", target ").append(s.metricType().kubernetesName()).append(' ').append(s.lagThreshold());
        if (s.metricType() == dev.lagscaler.trigger.MetricTargetType.AVERAGE_VALUE) {
            long replicas = (lag.metricValue() + s.lagThreshold() - 1) / s.lagThreshold();
            b.append(" -> the HPA wants ceil(").append(lag.metricValue()).append(" / ").append(s.lagThreshold())
                    .append(") = ").append(replicas).append(" replicas");
        } else {
            b.append(" -> the HPA scales current replicas by ").append(lag.metricValue()).append(" / ")
                    .append(s.lagThreshold());
        }
        b.append('\n');
        b.append(lag.active() ? "active" : "inactive").append(": lag incl. persistent ")
                .append(lag.totalLagWithPersistent()).append(lag.active() ? " > " : " <= ")
                .append("activationLagThreshold ").append(s.activationLagThreshold());
        return b.toString();
    }
}
