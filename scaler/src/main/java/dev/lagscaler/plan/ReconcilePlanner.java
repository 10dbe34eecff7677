package dev.lagscaler.plan;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.lagscaler.Defaults;
import dev.lagscaler.lag.ConsumerHealth;
import dev.lagscaler.lag.TriggerResult;
import dev.lagscaler.scaling.Condition;
import dev.lagscaler.scaling.Decision;
import dev.lagscaler.scaling.DrainTime;
import dev.lagscaler.scaling.ScaledObjectSpec;
import dev.lagscaler.scaling.ScalingInput;
import dev.lagscaler.scaling.ScalingPolicy;
import dev.lagscaler.scaling.TriggerOutcome;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The pure middle of a reconcile: from what was read ({@link PlanInput}) to what to do ({@link Plan}). It asks
 * {@link ScalingPolicy} for the decision, compares the HPA it wants with the one that exists, builds the status and
 * the Events, and the values the adapter serves. The operator, {@code lagscaler evaluate} and {@code explain} call it.
 */
public final class ReconcilePlanner {
    /** lagscaler's condition beside KEDA's: the consumer groups' health (see {@link ConsumerHealth}). */
    public static final String CONSUMER_HEALTHY = "ConsumerHealthy";
    /** The conditions a ScaledObject's status carries, in the order written: KEDA's four, then ours. */
    public static final List<String> CONDITION_TYPES = List.of(ScalingPolicy.READY, ScalingPolicy.ACTIVE,
            ScalingPolicy.FALLBACK, ScalingPolicy.PAUSED, CONSUMER_HEALTHY);

    private ReconcilePlanner() {
    }

    public static Plan plan(PlanInput in) {
        ScaledObjectSpec spec = in.spec();
        List<TriggerOutcome> outcomes = new ArrayList<>();
        List<HpaBuilder.Metric> hpaMetrics = new ArrayList<>();
        for (ResolvedTrigger t : in.triggers()) {
            outcomes.add(outcome(t, in.health().getOrDefault(t.index(), TriggerHealth.PENDING), in.now(),
                    staleAfter(spec)));
            if (t instanceof ResolvedTrigger.Kafka k) {
                hpaMetrics.add(k.metric());
                if (k.lagSecondsMetric() != null) {
                    hpaMetrics.add(k.lagSecondsMetric());
                }
            } else if (t instanceof ResolvedTrigger.Resource r) {
                hpaMetrics.add(r.metric());
            }
        }
        outcomes.sort(Comparator.comparingInt(TriggerOutcome::index));
        // scalingModifiers: one composite metric replaces the event triggers' own in the HPA, and its value against
        // activationTarget decides activity.
        CompositeMetric composite = spec.scalingModifiers() == null ? null : CompositeMetric.of(spec, in);
        if (composite != null) {
            outcomes = composite.decideActivity(spec, outcomes);
            hpaMetrics.removeIf(m -> m.type().equals("External"));
            hpaMetrics.add(0, CompositeMetric.hpaMetric(spec.scalingModifiers()));
        }
        Instant lastActive = StatusDocument.lastActiveTime(in.status());
        Decision decision = ScalingPolicy.decide(new ScalingInput(spec, outcomes, in.currentReplicas(), lastActive, in.now()));

        List<Plan.Event> events = new ArrayList<>();
        if (decision.event() != null) {
            events.add(new Plan.Event(decision.event().equals("KEDAScalerFailed") ? "Warning" : "Normal",
                    decision.event(), decision.reason()));
        }
        Duration normal = Duration.ofSeconds(spec.pollingIntervalSeconds());
        Duration fast = fastInterval(spec, in.fastInterval());
        Condition consumers = consumerHealth(in);
        Map<Integer, DrainState> drains = drainStates(in);
        ObjectNode status = StatusDocument.forDecision(spec, in, decision, consumers, drains);
        boolean statusChanged = !status.equals(in.status());
        String wasReason = StatusDocument.conditionReason(in.status(), CONSUMER_HEALTHY);
        if (consumers != null && !consumers.status().equals("Unknown") && !consumers.reason().equals(wasReason)
                && (consumers.status().equals("False") || wasReason != null)) {
            events.add(new Plan.Event(consumers.status().equals("True") ? "Normal" : "Warning",
                    "Consumer" + consumers.reason(), consumers.message()));
        }
        Condition ready = decision.conditions().get(ScalingPolicy.READY);
        if (statusChanged && ready != null && ready.status().equals("False")
                && !ready.reason().equals(StatusDocument.conditionReason(in.status(), ScalingPolicy.READY))) {
            events.add(new Plan.Event("Warning", ready.reason(), ready.message()));
        }
        events.addAll(transitionEvents(in.status(), decision));
        // Invalid input (a trigger that does not parse, a bad annotation, min 0 with only cpu/memory) keeps the last
        // good HPA (and its stabilization history) as it is.
        Plan.HpaChange hpa = decision.invalidInput() ? new Plan.HpaChange.None()
                : hpaChange(in, hpaMetrics, decision.hpaWanted());
        List<Plan.MetricValue> served = served(in, composite, drains);
        return new Plan(decision, hpa, decision.scaleWrite() ? decision.replicas() : null,
                statusChanged ? status : null, events, served, decision.atZero() ? fast : activeInterval(spec),
                normal.compareTo(Duration.ofSeconds(60)) < 0 ? normal.multipliedBy(2) : Duration.ofSeconds(120),
                decision.reason(), in.formerHpas().stream().map(h -> new Plan.HpaChange.Delete(h.name(), h.uid())).toList());
    }

    /**
     * KEDA's Events for a condition that changed: ScaledObjectReady when Ready turns True, ScaledObjectPaused and
     * ScaledObjectUnpaused, ScaledObjectFallbackActivated and ScaledObjectFallbackDeactivated.
     */
    static List<Plan.Event> transitionEvents(JsonNode oldStatus, Decision decision) {
        List<Plan.Event> events = new ArrayList<>();
        if (turned(oldStatus, decision, ScalingPolicy.READY, "True")) {
            events.add(new Plan.Event("Normal", "ScaledObjectReady", "ScaledObject is ready for scaling"));
        }
        if (turned(oldStatus, decision, ScalingPolicy.PAUSED, "True") && !"ScaledObjectPaused".equals(decision.event())) {
            events.add(new Plan.Event("Normal", "ScaledObjectPaused", decision.conditions().get(ScalingPolicy.PAUSED).message()));
        }
        if (turned(oldStatus, decision, ScalingPolicy.PAUSED, "False")
                && "True".equals(StatusDocument.conditionStatus(oldStatus, ScalingPolicy.PAUSED))) {
            events.add(new Plan.Event("Normal", "ScaledObjectUnpaused", "ScaledObject was unpaused"));
        }
        if (turned(oldStatus, decision, ScalingPolicy.FALLBACK, "True")) {
            events.add(new Plan.Event("Warning", "ScaledObjectFallbackActivated",
                    "Fallback activated: " + decision.reason()));
        }
        if (turned(oldStatus, decision, ScalingPolicy.FALLBACK, "False")
                && "True".equals(StatusDocument.conditionStatus(oldStatus, ScalingPolicy.FALLBACK))) {
            events.add(new Plan.Event("Normal", "ScaledObjectFallbackDeactivated", "Fallback deactivated: triggers answer again"));
        }
        return events;
    }

    private static boolean turned(JsonNode oldStatus, Decision decision, String type, String to) {
        Condition now = decision.conditions().get(type);
        return now != null && now.status().equals(to) && !to.equals(StatusDocument.conditionStatus(oldStatus, type));
    }

    /**
     * An object that cannot be acted on (it does not parse, its target has no /scale): Ready=False with the reason,
     * one Warning Event when the reason or message is new, nothing else touched.
     */
    public static Plan notReady(JsonNode oldStatus, String reason, String message, Instant now, Duration requeueAfter) {
        ObjectNode status = StatusDocument.notReady(oldStatus, reason, message, now);
        JsonNode ready = StatusDocument.condition(oldStatus, ScalingPolicy.READY);
        boolean news = ready == null || !reason.equals(ready.path("reason").asText())
                || !message.equals(ready.path("message").asText());
        return new Plan(null, new Plan.HpaChange.None(), null, status.equals(oldStatus) ? null : status,
                news ? List.of(new Plan.Event("Warning", reason, message)) : List.of(), List.of(), null, requeueAfter,
                reason + ": " + message);
    }

    /**
     * The values the adapter serves for the object, from what was read: each kafka trigger's and, with
     * scalingModifiers, the composite. The operator also calls it between reconciles, with fresher poll results
     * ({@link PlanInput#withHealth}), to keep the HPA's values fresh without a reconcile per poll.
     */
    public static List<Plan.MetricValue> servedValues(PlanInput in) {
        CompositeMetric composite = in.spec().scalingModifiers() == null ? null : CompositeMetric.of(in.spec(), in);
        return served(in, composite, drainStates(in));
    }

    private static List<Plan.MetricValue> served(PlanInput in, CompositeMetric composite, Map<Integer, DrainState> drains) {
        Duration normal = Duration.ofSeconds(in.spec().pollingIntervalSeconds());
        List<Plan.MetricValue> served = new ArrayList<>(metricValues(in, normal, drains));
        if (composite != null) {
            served.add(composite.served(in.spec(), in.currentReplicas(), in.now(), normal.multipliedBy(3)));
        }
        return served;
    }

    /**
     * The polling interval while the target is above zero: pollingInterval, or when the HPA should read fresh values
     * ({@link ScaledObjectSpec#wantsFreshMetrics}) the shorter {@link Defaults#FRESH_METRIC_INTERVAL}.
     */
    public static Duration activeInterval(ScaledObjectSpec spec) {
        Duration normal = Duration.ofSeconds(spec.pollingIntervalSeconds());
        return spec.wantsFreshMetrics() && Defaults.FRESH_METRIC_INTERVAL.compareTo(normal) < 0
                ? Defaults.FRESH_METRIC_INTERVAL : normal;
    }

    /** The polling interval while the target is at zero: the object's annotation, else the operator's default. */
    public static Duration fastInterval(ScaledObjectSpec spec, Duration operatorDefault) {
        return spec.activationPollingInterval() != null ? spec.activationPollingInterval() : operatorDefault;
    }

    /** The interval a reconcile registers the object's triggers at, before its decision is known. */
    public static Duration pollInterval(ScaledObjectSpec spec, int currentReplicas, Duration operatorDefault) {
        return currentReplicas == 0 ? fastInterval(spec, operatorDefault) : activeInterval(spec);
    }

    /**
     * How old a measurement may be before it no longer lowers replicas: three polls. A watched trigger at zero is
     * polled every pollingInterval but at least every 5 s, so the bound counts from the longer of the two.
     */
    public static Duration staleAfter(ScaledObjectSpec spec) {
        Duration interval = Duration.ofSeconds(Math.max(spec.pollingIntervalSeconds(), 5));
        return interval.multipliedBy(3);
    }

    static TriggerOutcome outcome(ResolvedTrigger trigger, TriggerHealth health, Instant now, Duration staleAfter) {
        int i = trigger.index();
        if (trigger instanceof ResolvedTrigger.Kafka k) {
            if (health.latest() == null) {
                return new TriggerOutcome(i, "kafka", TriggerOutcome.State.PENDING, false, 0, 0, null);
            }
            if (health.latest() instanceof TriggerResult.Measured m) {
                Duration age = Duration.between(m.at(), now);
                if (age.compareTo(staleAfter) > 0) {
                    return new TriggerOutcome(i, "kafka", TriggerOutcome.State.STALE, k.active(m), m.lag().metricValue(),
                            0, "its latest result is " + age.toSeconds() + " s old (more than " + staleAfter.toSeconds()
                            + " s: three polls)");
                }
                return TriggerOutcome.measured(i, m.lag().metricValue(), k.active(m));
            }
            return TriggerOutcome.failed(i, health.consecutiveFailures(), ((TriggerResult.Failed) health.latest()).error().toString());
        }
        if (trigger instanceof ResolvedTrigger.Resource) {
            return new TriggerOutcome(i, trigger.type(), TriggerOutcome.State.RESOURCE, false, 0, 0, null);
        }
        if (trigger instanceof ResolvedTrigger.Invalid invalid) {
            return new TriggerOutcome(i, trigger.type(), TriggerOutcome.State.INVALID, false, 0, 0, invalid.message());
        }
        return new TriggerOutcome(i, trigger.type(), TriggerOutcome.State.UNSUPPORTED, false, 0, 0, null);
    }

    /** Each kafka trigger with {@code drainWithinSeconds}: its rates, memory and sizing (see {@link DrainState}). */
    static Map<Integer, DrainState> drainStates(PlanInput in) {
        Map<Integer, DrainState> states = new HashMap<>();
        for (ResolvedTrigger t : in.triggers()) {
            if (t instanceof ResolvedTrigger.Kafka k && k.settings().drainWithinSeconds() != null) {
                states.put(t.index(), DrainState.of(k, in.health().getOrDefault(t.index(), TriggerHealth.PENDING), in));
            }
        }
        return states;
    }

    private static boolean holds(TriggerResult.Measured m, int currentReplicas) {
        return currentReplicas > 0 && m.health().status().holdsReplicas();
    }

    /**
     * The ConsumerHealthy condition over the kafka triggers: True while every judged group is OK, else False with
     * the most severe state as reason, its finding, and whether the replicas are held; Unknown before any
     * judgement; null without kafka triggers.
     */
    static Condition consumerHealth(PlanInput in) {
        ConsumerHealth.Status worst = null;
        String message = null;
        boolean anyKafka = false;
        List<String> healthy = new ArrayList<>();
        for (ResolvedTrigger t : in.triggers()) {
            if (!(t instanceof ResolvedTrigger.Kafka k)) {
                continue;
            }
            anyKafka = true;
            TriggerHealth h = in.health().getOrDefault(t.index(), TriggerHealth.PENDING);
            if (!(h.latest() instanceof TriggerResult.Measured m) || !m.health().judged()) {
                continue;
            }
            ConsumerHealth.Status status = m.health().status();
            String about = "trigger " + t.index() + " (group " + k.settings().consumerGroup() + "): ";
            if (status == ConsumerHealth.Status.OK) {
                healthy.add(about + m.health().summary());
            }
            if (worst == null || status.compareTo(worst) > 0) {
                worst = status;
                message = about + m.health().summary() + (holds(m, in.currentReplicas())
                        ? "; replicas held at " + in.currentReplicas() + ": more consumers would not move a stalled group"
                        : "");
            }
        }
        if (!anyKafka) {
            return null;
        }
        if (worst == null) {
            return Condition.unknown("NotJudged", "no poll has judged the consumer groups yet");
        }
        return worst == ConsumerHealth.Status.OK ? Condition.yes(worst.reason(), String.join("; ", healthy))
                : Condition.no(worst.reason(), message);
    }

    private static Plan.HpaChange hpaChange(PlanInput in, List<HpaBuilder.Metric> metrics, boolean wanted) {
        PlanInput.ExistingHpa existing = in.hpa();
        if (!wanted || metrics.isEmpty()) {
            return existing != null && existing.ownedByScaledObject() ? new Plan.HpaChange.Delete(in.spec().hpaName(), existing.uid())
                    : new Plan.HpaChange.None();
        }
        ObjectNode desired = HpaBuilder.desired(in.spec(), in.uid(), metrics);
        String hash = desired.path("metadata").path("annotations").path(HpaBuilder.SPEC_HASH).asText();
        if (existing == null) {
            return new Plan.HpaChange.Create(desired);
        }
        // Unchanged when ours did not change (the hash) and nobody else changed the live spec (an outside edit of a
        // field we set is put back).
        if (hash.equals(existing.specHash())
                && (existing.spec() == null || HpaDrift.holds(desired.path("spec"), existing.spec()))) {
            return new Plan.HpaChange.None();
        }
        // The replacement carries the version read, so a write by anyone else in between is a conflict.
        ((ObjectNode) desired.path("metadata")).put("resourceVersion", existing.resourceVersion());
        return new Plan.HpaChange.Update(desired, existing.resourceVersion());
    }

    /**
     * Each measured kafka trigger's value for the adapter: the measurement, or past failureThreshold the fallback
     * value (so the HPA lands on fallback.replicas), or the error; an invalid trigger's error. A value older than
     * 3 x pollingInterval is stale.
     */
    private static List<Plan.MetricValue> metricValues(PlanInput in, Duration interval, Map<Integer, DrainState> drains) {
        Map<String, Plan.MetricValue> values = new LinkedHashMap<>();
        Duration staleAfter = interval.multipliedBy(3);
        for (ResolvedTrigger t : in.triggers()) {
            if (t instanceof ResolvedTrigger.Invalid invalid && invalid.metricName() != null) {
                values.put(invalid.metricName(), new Plan.MetricValue(invalid.metricName(), null, false,
                        "trigger " + t.index() + " is invalid: " + invalid.message(), in.now(), staleAfter));
                continue;
            }
            TriggerHealth health = in.health().getOrDefault(t.index(), TriggerHealth.PENDING);
            if (!(t instanceof ResolvedTrigger.Kafka k) || health.latest() == null) {
                continue;
            }
            String name = k.settings().metricName(t.index());
            String secondsName = k.settings().lagSecondsMetricName(t.index());
            TriggerResult latest = health.latest();
            if (latest instanceof TriggerResult.Measured m) {
                // A stalled or stopped group is not helped by more replicas: the value is capped where the HPA
                // keeps the replicas it has (it may still go down).
                boolean hold = holds(m, in.currentReplicas());
                DrainTime.Sizing drain = drains.containsKey(t.index()) ? drains.get(t.index()).sizing() : null;
                long value = drain == null ? m.lag().metricValue() * 1000 : ScalingPolicy.metricMilliFor(drain.replicas(),
                        k.settings().metricType(), k.settings().lagThreshold(), in.currentReplicas());
                if (hold) {
                    value = Math.min(value, ScalingPolicy.metricMilliFor(in.currentReplicas(), k.settings().metricType(),
                            k.settings().lagThreshold(), in.currentReplicas()));
                }
                values.put(name, new Plan.MetricValue(name, value, false, null, latest.at(), staleAfter));
                if (secondsName != null) {
                    Double seconds = m.timeLag().maxSeconds();
                    Long secondsMilli = seconds == null ? null : Math.round(seconds * 1000);
                    if (hold && secondsMilli != null) {
                        secondsMilli = Math.min(secondsMilli, k.settings().lagSecondsThreshold() * 1000);
                    }
                    values.put(secondsName, new Plan.MetricValue(secondsName, secondsMilli,
                            false, seconds == null ? "time lag not known yet: " + m.timeLag().unknownReason() : null,
                            latest.at(), staleAfter));
                }
            } else if (ScalingPolicy.fallbackEngaged(in.spec().fallback(), health.consecutiveFailures())) {
                values.put(name, new Plan.MetricValue(name, ScalingPolicy.fallbackMetricMilli(in.spec().fallback(),
                        k.settings().metricType(), k.settings().lagThreshold(), in.currentReplicas()), true, null, in.now(),
                        staleAfter));
            } else {
                values.put(name, new Plan.MetricValue(name, null, false,
                        ((TriggerResult.Failed) latest).error().toString(), latest.at(), staleAfter));
            }
            if (secondsName != null && !(latest instanceof TriggerResult.Measured)) {
                values.put(secondsName, new Plan.MetricValue(secondsName, null, false,
                        "trigger " + t.index() + " failed: no time lag", latest.at(), staleAfter));
            }
        }
        return List.copyOf(values.values());
    }
}
