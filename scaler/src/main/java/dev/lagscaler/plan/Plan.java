package dev.lagscaler.plan;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.lagscaler.scaling.Decision;
import java.time.Duration;
import java.time.Instant;
import java.util.List;

/**
 * What one reconcile does, as a value: the HPA change, the replica write, the status to write (null when
 * unchanged), Events, metric values for the adapter, the polling interval for the object's triggers and when to
 * look again, with the scaling decision behind them (null when the object could not be evaluated), and the HPAs it
 * owns under a former name, to delete. Appliers carry it out; tests assert on it.
 */
public record Plan(Decision decision, HpaChange hpa, Integer replicaWrite, ObjectNode status, List<Event> events,
                   List<MetricValue> metrics, Duration pollInterval, Duration requeueAfter, String reason,
                   List<HpaChange.Delete> formerHpas) {
    public Plan {
        events = List.copyOf(events);
        metrics = List.copyOf(metrics);
        formerHpas = List.copyOf(formerHpas);
    }

    public Plan(Decision decision, HpaChange hpa, Integer replicaWrite, ObjectNode status, List<Event> events,
                List<MetricValue> metrics, Duration pollInterval, Duration requeueAfter, String reason) {
        this(decision, hpa, replicaWrite, status, events, metrics, pollInterval, requeueAfter, reason, List.of());
    }

    /** The same plan with one more Event. */
    public Plan withEvent(Event event) {
        List<Event> more = new java.util.ArrayList<>(events);
        more.add(event);
        return new Plan(decision, hpa, replicaWrite, status, more, metrics, pollInterval, requeueAfter, reason, formerHpas);
    }

    /** The same plan with its replica write already done (a pass that plans again after a failed HPA create). */
    public Plan withoutReplicaWrite() {
        return new Plan(decision, hpa, null, status, events, metrics, pollInterval, requeueAfter, reason, formerHpas);
    }

    /**
     * The first of two passes that wake a target from zero: the replica write, the HPA, the decision's own Event and
     * the values for the adapter; the status (and the Events that compare with it) are left to the pass
     * {@code rest} later, which plans them again. Among a thousand targets woken at once, every target's replica
     * write then comes before any status write (a status patch is a write to the apiserver as costly as the
     * replica's).
     */
    public Plan activationFirst(Duration rest) {
        List<Event> own = decision == null || decision.event() == null ? List.of()
                : events.stream().filter(e -> e.reason().equals(decision.event())).limit(1).toList();
        return new Plan(decision, hpa, replicaWrite, null, own, metrics, pollInterval, rest, reason, formerHpas);
    }

    /** Whether this plan raises a target from zero replicas ({@code current}) and has a status to write. */
    public boolean activates(int current) {
        return current == 0 && replicaWrite != null && replicaWrite > 0 && status != null;
    }

    public boolean writesNothing() {
        return hpa instanceof HpaChange.None && replicaWrite == null && status == null && events.isEmpty()
                && formerHpas.isEmpty();
    }

    /**
     * The HPA change: none, create, update (its desired object carries the version read, so a concurrent write
     * conflicts), or delete.
     */
    public sealed interface HpaChange {
        record None() implements HpaChange {
        }

        record Create(ObjectNode desired) implements HpaChange {
        }

        record Update(ObjectNode desired, String resourceVersion) implements HpaChange {
        }

        /** Deletes the HPA of this name and uid (a precondition: never another HPA made since under the same name). */
        record Delete(String name, String uid) implements HpaChange {
        }
    }

    /** A Kubernetes Event on the ScaledObject; type is Normal or Warning. */
    public record Event(String type, String reason, String message) {
    }

    /**
     * A value for the metrics adapter: a measurement or fallback value in milli-units, or an error (valueMilli null).
     * It is stale after {@code staleAfter} from {@code at}.
     */
    public record MetricValue(String metricName, Long valueMilli, boolean fallback, String error, Instant at,
                              Duration staleAfter) {
    }
}
