package dev.lagscaler.plan;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.lagscaler.lag.ConsumerHealth;
import dev.lagscaler.lag.LagArithmetic;
import dev.lagscaler.lag.PartitionOffsets;
import dev.lagscaler.lag.PersistentLagMemory;
import dev.lagscaler.lag.TriggerError;
import dev.lagscaler.lag.TriggerKey;
import dev.lagscaler.lag.TriggerResult;
import dev.lagscaler.scaling.Condition;
import dev.lagscaler.scaling.ScaledObjectInvalid;
import dev.lagscaler.scaling.ScaledObjectParser;
import dev.lagscaler.scaling.ScaledObjectSpec;
import dev.lagscaler.scaling.ScalingPolicy;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The planning step as a table: what was read in, what to do out. No I/O. */
class ReconcilePlannerTest {
    static final Instant NOW = Instant.parse("2026-01-01T01:00:00Z");
    static final String UID = "uid-1";
    static final Duration FAST = Duration.ofSeconds(1);
    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
    private static final JsonNode NO_STATUS = new ObjectMapper().createObjectNode();

    static ScaledObjectSpec spec(String triggers, String extra) throws Exception {
        return ScaledObjectParser.parse(YAML.readTree("""
                apiVersion: keda.sh/v1alpha1
                kind: ScaledObject
                metadata: {name: so, namespace: default, creationTimestamp: "2026-01-01T00:00:00Z"}
                spec:
                  scaleTargetRef: {name: consumer}
                %s
                  triggers:
                %s
                """.formatted(extra.indent(2), triggers.indent(2))));
    }

    static ScaledObjectSpec kafkaSpec(String extra) throws Exception {
        return spec("""
                - type: kafka
                  metadata: {bootstrapServers: "k:9092", consumerGroup: g, topic: events, lagThreshold: "10"}
                """, extra);
    }

    static List<ResolvedTrigger> resolve(ScaledObjectSpec spec) {
        return Triggers.resolveAll(spec, TriggerType.Context.of(Map.of(), Map.of()));
    }

    /** A measured poll with {@code lag} records behind on one partition. */
    static TriggerHealth measured(ScaledObjectSpec spec, long lag) {
        var settings = ((ResolvedTrigger.Kafka) resolve(spec).get(0)).settings();
        var result = LagArithmetic.compute(settings, List.of(new PartitionOffsets("events", 0, 100L, 100L + lag, 0L)),
                PersistentLagMemory.EMPTY);
        return new TriggerHealth(new TriggerResult.Measured(new TriggerKey("default", "so", 0), NOW, result), 0);
    }

    static TriggerHealth failing(int times) {
        return new TriggerHealth(new TriggerResult.Failed(new TriggerKey("default", "so", 0), NOW,
                new TriggerError(TriggerError.Kind.BROKER_UNREACHABLE, "no broker answered")), times);
    }

    static Plan plan(ScaledObjectSpec spec, JsonNode status, int replicas, PlanInput.ExistingHpa hpa, TriggerHealth health) {
        return ReconcilePlanner.plan(new PlanInput(spec, UID, status, replicas, hpa, resolve(spec),
                health == null ? Map.of() : Map.of(0, health), FAST, NOW));
    }

    /** A measured poll with no record behind but the oldest waiting {@code seconds} old by the log-end history. */
    static TriggerHealth waited(ScaledObjectSpec spec, long lag, Double seconds) {
        TriggerResult.Measured m = (TriggerResult.Measured) measured(spec, lag).latest();
        return new TriggerHealth(new TriggerResult.Measured(m.key(), m.at(), m.lag(), new dev.lagscaler.lag.TimeLag(seconds,
                Map.of(), seconds == null ? "the log-end history (3 s) does not reach back" : null)), 0);
    }

    /** A measured poll of {@code lag} records whose group was judged {@code status}. */
    static TriggerHealth judged(ScaledObjectSpec spec, long lag, ConsumerHealth.Status status) {
        TriggerResult.Measured m = (TriggerResult.Measured) measured(spec, lag).latest();
        var key = new dev.lagscaler.lag.TopicPartitionKey("events", 0);
        return new TriggerHealth(new TriggerResult.Measured(m.key(), m.at(), m.lag(), dev.lagscaler.lag.TimeLag.UNKNOWN,
                new ConsumerHealth(status, Map.of(key, status), status + ": events-0 says so")), 0);
    }

    @Test
    void aStalledGroupHoldsTheReplicasItHasAndSaysWhy() throws Exception {
        // allowIdleConsumers: the one partition does not cap the value at 1 x lagThreshold.
        ScaledObjectSpec spec = spec("""
                - type: kafka
                  metadata: {bootstrapServers: "k:9092", consumerGroup: g, topic: events, lagThreshold: "10",
                             allowIdleConsumers: "true"}
                """, "");
        JsonNode running = plan(spec, NO_STATUS, 3, null, judged(spec, 0, ConsumerHealth.Status.OK)).status();
        // 400 records behind at lagThreshold 10 would ask the HPA for 40 replicas; stalled, it serves 3 x 10.
        Plan stalled = plan(spec, running, 3, null, judged(spec, 400, ConsumerHealth.Status.STALL));
        assertEquals(30_000L, stalled.metrics().get(0).valueMilli(), "the value at which the HPA keeps 3");
        JsonNode condition = StatusDocument.condition(stalled.status(), ReconcilePlanner.CONSUMER_HEALTHY);
        assertEquals("False", condition.path("status").asText());
        assertEquals("Stalled", condition.path("reason").asText());
        assertTrue(condition.path("message").asText().contains("replicas held at 3"), condition.toString());
        assertEquals(List.of("ConsumerStalled"), stalled.events().stream().map(Plan.Event::reason).toList());
        assertEquals("Warning", stalled.events().get(0).type());
        // The same state again: no second Event. Healthy again: one Normal Event, and the full value served.
        assertEquals(List.of(), plan(spec, stalled.status(), 3, null, judged(spec, 400, ConsumerHealth.Status.STALL)).events());
        Plan recovered = plan(spec, stalled.status(), 3, null, judged(spec, 400, ConsumerHealth.Status.OK));
        assertEquals(400_000L, recovered.metrics().get(0).valueMilli());
        assertEquals(List.of(new Plan.Event("Normal", "ConsumerHealthy", recovered.events().get(0).message())),
                recovered.events());
        // Below the held value the HPA may still go down; a growing lag (WARN) is not held; at zero, a stopped
        // group (no consumers run) still activates.
        assertEquals(20_000L, plan(spec, running, 3, null, judged(spec, 20, ConsumerHealth.Status.STOP)).metrics().get(0).valueMilli());
        assertEquals(400_000L, plan(spec, running, 3, null, judged(spec, 400, ConsumerHealth.Status.WARN)).metrics().get(0).valueMilli());
        Plan fromZero = plan(spec, NO_STATUS, 0, null, judged(spec, 400, ConsumerHealth.Status.STOP));
        assertEquals(1, fromZero.replicaWrite());
        assertEquals(400_000L, fromZero.metrics().get(0).valueMilli());
    }

    /** A measured poll of {@code lag} records with the window's rates. */
    static TriggerHealth withRates(ScaledObjectSpec spec, long lag, Double produced, Double consumed, boolean saturated) {
        TriggerResult.Measured m = (TriggerResult.Measured) measured(spec, lag).latest();
        return new TriggerHealth(new TriggerResult.Measured(m.key(), m.at(), m.lag(), dev.lagscaler.lag.TimeLag.UNKNOWN,
                new ConsumerHealth(ConsumerHealth.Status.OK, Map.of(), "ok",
                        new ConsumerHealth.Throughput(produced, consumed, 30, saturated))), 0);
    }

    @Test
    void drainWithinSecondsServesTheValueThatLandsTheHpaOnTheDrainSizeAndRemembersTheRate() throws Exception {
        ScaledObjectSpec spec = spec("""
                - type: kafka
                  metadata: {bootstrapServers: "k:9092", consumerGroup: g, topic: events, lagThreshold: "10",
                             allowIdleConsumers: "true", drainWithinSeconds: "60"}
                """, "maxReplicaCount: 50");
        // Busy consumers, 4 replicas for the last 5 minutes: they commit 400/s, so 100/s each; 6,000 waiting / 60 s
        // + 250/s arriving -> 4.
        JsonNode settled = new ObjectMapper().readTree("""
                {"health": {"s0-kafka-events": {"drainReplicas": 4, "drainReplicasSince": "2026-01-01T00:55:00Z"}}}""");
        Plan busy = plan(spec, settled, 4, null, withRates(spec, 6_000, 250.0, 400.0, true));
        assertEquals(40_000L, busy.metrics().get(0).valueMilli(), "4 replicas x lagThreshold 10");
        JsonNode health = busy.status().path("health").path("s0-kafka-events");
        assertEquals(100.0, health.path("drainRatePerReplica").asDouble());
        assertTrue(health.path("drainSizing").asText().endsWith("-> 4 replicas"), health.toString());
        // Idle consumers (nothing waits, 300/s arrive and are committed): the remembered 100/s sizes it -> 3.
        Plan idle = plan(spec, busy.status(), 4, null, withRates(spec, 0, 300.0, 300.0, false));
        assertEquals(30_000L, idle.metrics().get(0).valueMilli());
        assertEquals(100.0, idle.status().path("health").path("s0-kafka-events").path("drainRatePerReplica").asDouble());
        // Between reconciles the operator keeps of the status only what serving reads: the same values come out.
        PlanInput remembered = new PlanInput(spec, UID, busy.status(), 4, null, resolve(spec),
                Map.of(0, withRates(spec, 0, 300.0, 300.0, false)), FAST, NOW).forServing();
        List<String> kept = new java.util.ArrayList<>();
        remembered.status().fieldNames().forEachRemaining(kept::add);
        assertEquals(List.of("health"), kept);
        assertEquals(30_000L, ReconcilePlanner.servedValues(remembered).get(0).valueMilli());
        // Just scaled to 8 (the new replicas may still be starting): 400/s is not taken as 50/s each.
        JsonNode justScaled = plan(spec, busy.status(), 8, null, withRates(spec, 6_000, 250.0, 400.0, true)).status();
        assertEquals(100.0, justScaled.path("health").path("s0-kafka-events").path("drainRatePerReplica").asDouble());
        assertEquals(8, justScaled.path("health").path("s0-kafka-events").path("drainReplicas").asInt());
        // Never measured busy: lagThreshold decides (the lag itself is served), and the status says so.
        Plan unknown = plan(spec, NO_STATUS, 4, null, withRates(spec, 300, 900.0, 900.0, false));
        assertEquals(300_000L, unknown.metrics().get(0).valueMilli());
        assertTrue(unknown.status().path("health").path("s0-kafka-events").path("drainSizing").asText()
                .contains("lagThreshold decides"));
    }

    @Test
    void aTargetAtZeroSaysWhetherTheWakeUpConsumerOrPollingWillSeeItsFirstRecord() throws Exception {
        ScaledObjectSpec spec = kafkaSpec("");
        String cluster = ((ResolvedTrigger.Kafka) resolve(spec).get(0)).settings().connection().label();
        java.util.function.Function<PlanInput.WakeUp, String> activation = wakeUp -> ReconcilePlanner.plan(new PlanInput(spec,
                UID, NO_STATUS, 0, null, resolve(spec), Map.of(0, measured(spec, 0)), FAST, NOW, wakeUp))
                .status().path("activation").asText();
        java.util.Map<String, String> fetching = new java.util.HashMap<>();
        fetching.put(cluster, null);
        assertEquals("the first record wakes it (wake-up consumer)", activation.apply(new PlanInput.WakeUp(true, fetching)));
        assertEquals("polled every 1000 ms: trigger 0: the wake-up consumer cannot fetch: TopicAuthorizationException",
                activation.apply(new PlanInput.WakeUp(true, Map.of(cluster, "TopicAuthorizationException"))));
        assertEquals("polled every 1000 ms (the wake-up consumer is off: --no-wake-up-consumer)",
                activation.apply(new PlanInput.WakeUp(false, Map.of())));
        assertFalse(plan(spec, NO_STATUS, 3, null, measured(spec, 50)).status().has("activation"), "only at zero");
    }

    @Test
    void consumerHealthIsUnknownUntilJudgedAndAbsentWithoutKafkaTriggers() throws Exception {
        ScaledObjectSpec spec = kafkaSpec("");
        JsonNode pending = StatusDocument.condition(plan(spec, NO_STATUS, 1, null, measured(spec, 5)).status(),
                ReconcilePlanner.CONSUMER_HEALTHY);
        assertEquals("Unknown", pending.path("status").asText());
        assertEquals(List.of(), plan(spec, NO_STATUS, 1, null, measured(spec, 5)).events().stream()
                .filter(e -> e.reason().startsWith("Consumer")).toList(), "no consumer-health Event before a judgement");
        ScaledObjectSpec cpu = spec("""
                - type: cpu
                  metricType: Utilization
                  metadata: {value: "50"}
                """, "");
        assertNull(StatusDocument.condition(plan(cpu, NO_STATUS, 1, null, null).status(), ReconcilePlanner.CONSUMER_HEALTHY));
    }

    @Test
    void lagSecondsThresholdAddsAValueMetricActivatesOnAgeAndSaysWhenItDoesNotKnow() throws Exception {
        ScaledObjectSpec spec = spec("""
                - type: kafka
                  metadata: {bootstrapServers: "k:9092", consumerGroup: g, topic: events, lagThreshold: "100",
                             activationLagThreshold: "50", lagSecondsThreshold: "30", activationLagSecondsThreshold: "10"}
                """, "");
        // 20 records (below activationLagThreshold 50) that have waited 45 s (above 10 s): active, from zero.
        Plan plan = plan(spec, NO_STATUS, 0, null, waited(spec, 20, 45.0));
        assertEquals(1, plan.replicaWrite(), "activated by the records' age");
        JsonNode metrics = assertInstanceOf(Plan.HpaChange.Create.class, plan.hpa()).desired().path("spec").path("metrics");
        assertEquals(2, metrics.size(), metrics.toString());
        assertEquals("s0-kafka-events-lag-seconds", metrics.get(1).path("external").path("metric").path("name").asText());
        assertEquals("Value", metrics.get(1).path("external").path("target").path("type").asText());
        assertEquals("30", metrics.get(1).path("external").path("target").path("value").asText());
        Plan.MetricValue seconds = plan.metrics().stream().filter(v -> v.metricName().endsWith("-lag-seconds")).findFirst().orElseThrow();
        assertEquals(45_000L, seconds.valueMilli());
        // Without a history that reaches back, the seconds metric is an error (the HPA holds it), never a guess.
        Plan unknown = plan(spec, NO_STATUS, 1, null, waited(spec, 20, null));
        Plan.MetricValue none = unknown.metrics().stream().filter(v -> v.metricName().endsWith("-lag-seconds")).findFirst().orElseThrow();
        assertNull(none.valueMilli());
        assertTrue(none.error().contains("not known yet"), none.error());
        // Young records below both activation thresholds: not active.
        assertNull(plan(spec, NO_STATUS, 0, null, waited(spec, 20, 5.0)).replicaWrite());
    }

    @Test
    void anIdleObjectAtZeroWritesNothingOnceItsStatusIsWritten() throws Exception {
        ScaledObjectSpec spec = kafkaSpec("");
        Plan first = plan(spec, NO_STATUS, 0, null, measured(spec, 0));
        assertNotNull(first.status(), "the first pass writes the status");
        assertNull(first.replicaWrite());
        // As KEDA does, the HPA exists at zero too (the HPA controller leaves a target at zero alone).
        Plan.HpaChange.Create create = assertInstanceOf(Plan.HpaChange.Create.class, first.hpa());
        String hash = create.desired().path("metadata").path("annotations").path(HpaBuilder.SPEC_HASH).asText();
        Plan second = plan(spec, first.status(), 0, new PlanInput.ExistingHpa(true, hash, "3", "hpa-uid"), measured(spec, 0));
        assertTrue(second.writesNothing(), () -> "second pass: " + second);
        assertEquals(FAST, second.pollInterval(), "targets at zero are polled at the fast interval");
    }

    private static List<String> reasons(Plan plan) {
        return plan.events().stream().map(Plan.Event::reason).toList();
    }

    @Test
    void kedasEventsFollowTheConditionsThatChanged() throws Exception {
        ScaledObjectSpec spec = kafkaSpec("fallback: {failureThreshold: 3, replicas: 4}");
        Plan first = plan(spec, NO_STATUS, 2, null, measured(spec, 0));
        assertTrue(reasons(first).contains("ScaledObjectReady"), reasons(first).toString());
        Plan again = plan(spec, first.status(), 2, null, measured(spec, 0));
        assertFalse(reasons(again).contains("ScaledObjectReady"), "only when Ready turns True");

        Plan fallback = plan(spec, first.status(), 2, null, failing(4));
        assertTrue(reasons(fallback).contains("ScaledObjectFallbackActivated"), reasons(fallback).toString());
        Plan recovered = plan(spec, fallback.status(), 4, null, measured(spec, 0));
        assertTrue(reasons(recovered).contains("ScaledObjectFallbackDeactivated"), reasons(recovered).toString());
        assertTrue(reasons(recovered).contains("ScaledObjectReady"), "Ready again after the TriggerError");

        ScaledObjectSpec paused = ScaledObjectParser.parse(YAML.readTree("""
                metadata: {name: so, namespace: default, creationTimestamp: "2026-01-01T00:00:00Z",
                           annotations: {autoscaling.keda.sh/paused: "true"}}
                spec:
                  scaleTargetRef: {name: consumer}
                  triggers: [{type: kafka, metadata: {bootstrapServers: "k:9092", consumerGroup: g, topic: events}}]
                """));
        Plan pausing = plan(paused, first.status(), 2, null, measured(paused, 0));
        assertEquals(List.of("ScaledObjectPaused"), reasons(pausing));
        Plan unpausing = plan(spec, pausing.status(), 2, null, measured(spec, 0));
        assertTrue(reasons(unpausing).contains("ScaledObjectUnpaused"), reasons(unpausing).toString());
    }

    @Test
    void theStatusCarriesKedasTargetTriggerAndAuthenticationFields() throws Exception {
        ScaledObjectSpec spec = spec("""
                - type: kafka
                  metadata: {bootstrapServers: "k:9092", consumerGroup: g, topic: events}
                  authenticationRef: {name: kafka-auth}
                - type: kafka
                  metadata: {bootstrapServers: "k:9092", consumerGroup: g, topic: other}
                  authenticationRef: {name: kafka-auth}
                - type: cpu
                  metricType: Utilization
                  metadata: {value: "60"}
                """, "minReplicaCount: 1");
        JsonNode status = plan(spec, NO_STATUS, 1, null, null).status();
        assertEquals("kafka,cpu", status.path("triggersTypes").asText());
        assertEquals("kafka-auth", status.path("authenticationsTypes").asText());
        JsonNode gvkr = status.path("scaleTargetGVKR");
        assertEquals(List.of("apps", "v1", "Deployment", "deployments"), List.of(gvkr.path("group").asText(),
                gvkr.path("version").asText(), gvkr.path("kind").asText(), gvkr.path("resource").asText()));
        assertFalse(plan(kafkaSpec(""), NO_STATUS, 1, null, null).status().has("authenticationsTypes"),
                "absent without authentication references");
    }

    private static TriggerHealth measuredAt(ScaledObjectSpec spec, int index, long lag) {
        var settings = ((ResolvedTrigger.Kafka) resolve(spec).get(index)).settings();
        var result = LagArithmetic.compute(settings, List.of(new PartitionOffsets(settings.topic(), 0, 100L, 100L + lag, 0L)),
                PersistentLagMemory.EMPTY);
        return new TriggerHealth(new TriggerResult.Measured(new TriggerKey("default", "so", index), NOW, result), 0);
    }

    private static ScaledObjectSpec composite(String extra) throws Exception {
        return spec("""
                - type: kafka
                  name: orders
                  metadata: {bootstrapServers: "k:9092", consumerGroup: g, topic: orders, lagThreshold: "10"}
                - type: kafka
                  name: refunds
                  metadata: {bootstrapServers: "k:9092", consumerGroup: g, topic: refunds, lagThreshold: "10"}
                """, """
                advanced:
                  scalingModifiers: {formula: "(orders + refunds)/2", target: "5", activationTarget: "2"}
                """ + extra);
    }

    @Test
    void scalingModifiersScaleOnOneCompositeMetric() throws Exception {
        ScaledObjectSpec spec = composite("");
        Plan active = ReconcilePlanner.plan(new PlanInput(spec, UID, NO_STATUS, 0, null, resolve(spec),
                Map.of(0, measuredAt(spec, 0, 6), 1, measuredAt(spec, 1, 2)), FAST, NOW));
        assertEquals(1, active.replicaWrite(), "(6 + 2) / 2 = 4 is above activationTarget 2");
        JsonNode metrics = assertInstanceOf(Plan.HpaChange.Create.class, active.hpa()).desired().path("spec").path("metrics");
        assertEquals(1, metrics.size(), "one composite metric instead of each trigger's: " + metrics);
        assertEquals("composite-metric", metrics.get(0).path("external").path("metric").path("name").asText());
        assertEquals("AverageValue", metrics.get(0).path("external").path("target").path("type").asText());
        assertEquals("5", metrics.get(0).path("external").path("target").path("averageValue").asText());
        Plan.MetricValue served = active.metrics().stream().filter(m -> m.metricName().equals("composite-metric"))
                .findFirst().orElseThrow();
        assertEquals(4_000, served.valueMilli(), "the formula's value, in milli-units");

        Plan quiet = ReconcilePlanner.plan(new PlanInput(spec, UID, NO_STATUS, 0, null, resolve(spec),
                Map.of(0, measuredAt(spec, 0, 1), 1, measuredAt(spec, 1, 2)), FAST, NOW));
        assertNull(quiet.replicaWrite(), "(1 + 2) / 2 = 1.5 is not above 2, though each trigger has lag past its"
                + " activationLagThreshold (0): the formula decides");
    }

    @Test
    void aCompositeFallsBackPastTheThresholdAndErrsBefore() throws Exception {
        ScaledObjectSpec spec = composite("fallback: {failureThreshold: 3, replicas: 4, behavior: scalingModifiers}");
        Plan failing = ReconcilePlanner.plan(new PlanInput(spec, UID, NO_STATUS, 2, null, resolve(spec),
                Map.of(0, measuredAt(spec, 0, 6), 1, failing(2)), FAST, NOW));
        Plan.MetricValue error = failing.metrics().stream().filter(m -> m.metricName().equals("composite-metric"))
                .findFirst().orElseThrow();
        assertNull(error.valueMilli());
        assertTrue(error.error().contains("no value for refunds (BROKER_UNREACHABLE"), error.error());
        Plan fallback = ReconcilePlanner.plan(new PlanInput(spec, UID, NO_STATUS, 2, null, resolve(spec),
                Map.of(0, measuredAt(spec, 0, 6), 1, failing(4)), FAST, NOW));
        Plan.MetricValue value = fallback.metrics().stream().filter(m -> m.metricName().equals("composite-metric"))
                .findFirst().orElseThrow();
        assertEquals(4 * 5 * 1000, value.valueMilli(), "fallback.replicas x the composite target");
        assertTrue(value.fallback());
    }

    @Test
    void scalingModifiersAreCheckedAsKedaChecksThem() {
        record Row(String modifiers, String message) {
        }
        for (Row row : List.of(
                new Row("{formula: \"orders\"}", "spec.advanced.scalingModifiers.target is required when scalingModifiers is set"),
                new Row("{target: \"5\"}", "spec.advanced.scalingModifiers.formula is required when scalingModifiers is set"),
                new Row("{formula: \"orders\", target: \"five\"}", "spec.advanced.scalingModifiers.target must be a number, got \"five\""),
                new Row("{formula: \"orders\", target: \"5\", metricType: Utilization}",
                        "spec.advanced.scalingModifiers.metricType must be AverageValue or Value, got \"Utilization\""),
                new Row("{formula: \"orders + lag\", target: \"5\"}",
                        "scalingModifiers.formula \"orders + lag\" uses [lag], which name no trigger (the triggers' names are [orders])"))) {
            ScaledObjectInvalid e = org.junit.jupiter.api.Assertions.assertThrows(ScaledObjectInvalid.class, () -> spec("""
                    - type: kafka
                      name: orders
                      metadata: {bootstrapServers: "k:9092", consumerGroup: g, topic: orders}
                    """, "advanced: {scalingModifiers: " + row.modifiers() + "}"), row.modifiers());
            assertEquals(row.message(), e.getMessage());
        }
        ScaledObjectInvalid behavior = org.junit.jupiter.api.Assertions.assertThrows(ScaledObjectInvalid.class,
                () -> kafkaSpec("fallback: {failureThreshold: 3, replicas: 4, behavior: scalingModifiers}"));
        assertEquals("spec.fallback.behavior scalingModifiers needs spec.advanced.scalingModifiers", behavior.getMessage());
    }

    @Test
    void useCachedMetricsChoosesHowOldTheHpasValueMayBe() throws Exception {
        ScaledObjectSpec fresh = kafkaSpec("pollingInterval: 30");
        ScaledObjectSpec cached = spec("""
                - type: kafka
                  useCachedMetrics: true
                  metadata: {bootstrapServers: "k:9092", consumerGroup: g, topic: events}
                """, "pollingInterval: 30");
        ScaledObjectSpec quick = kafkaSpec("pollingInterval: 1");
        assertEquals(Duration.ofSeconds(2), ReconcilePlanner.activeInterval(fresh), "KEDA's default: read fresh");
        assertEquals(Duration.ofSeconds(30), ReconcilePlanner.activeInterval(cached), "cached: pollingInterval, as KEDA");
        assertEquals(Duration.ofSeconds(1), ReconcilePlanner.activeInterval(quick), "never slower than pollingInterval");
        assertEquals(FAST, ReconcilePlanner.pollInterval(cached, 0, FAST), "at zero the fast interval either way");
        // Between reconciles the served values follow newer polls: the same input, newer results.
        PlanInput in = new PlanInput(fresh, UID, NO_STATUS, 2, null, resolve(fresh), Map.of(0, measured(fresh, 5)), FAST, NOW);
        assertEquals(5_000, ReconcilePlanner.servedValues(in).get(0).valueMilli());
        assertEquals(8_000, ReconcilePlanner.servedValues(in.withHealth(Map.of(0, measured(fresh, 8)), NOW.plusSeconds(2)))
                .get(0).valueMilli());
    }

    @Test
    void aCpuTriggerWithContainerNameScalesOnThatContainerAlone() throws Exception {
        ScaledObjectSpec spec = spec("""
                - type: kafka
                  metadata: {bootstrapServers: "k:9092", consumerGroup: g, topic: events}
                - type: cpu
                  metricType: Utilization
                  metadata: {value: "60", containerName: consumer}
                - type: memory
                  metricType: AverageValue
                  metadata: {value: "512Mi"}
                """, "minReplicaCount: 1");
        JsonNode metrics = assertInstanceOf(Plan.HpaChange.Create.class, plan(spec, NO_STATUS, 1, null, null).hpa())
                .desired().path("spec").path("metrics");
        assertEquals("ContainerResource", metrics.get(1).path("type").asText());
        assertEquals("consumer", metrics.get(1).path("containerResource").path("container").asText());
        assertEquals("cpu", metrics.get(1).path("containerResource").path("name").asText());
        assertEquals(60, metrics.get(1).path("containerResource").path("target").path("averageUtilization").asInt());
        assertEquals("Resource", metrics.get(2).path("type").asText(), "without containerName: the whole pod");
    }

    @Test
    void theHpaCarriesTheObjectsLabelsAndAnnotationsAsKedaCopiesThem() throws Exception {
        ScaledObjectSpec spec = ScaledObjectParser.parse(YAML.readTree("""
                metadata:
                  name: so
                  namespace: default
                  labels: {team: payments, cost-center: "42"}
                  annotations: {scaledobject.keda.sh/hpa-excluded-labels: cost-center, owner: alice}
                spec:
                  scaleTargetRef: {name: consumer}
                  triggers: [{type: kafka, metadata: {bootstrapServers: "k:9092", consumerGroup: g, topic: events}}]
                """));
        JsonNode meta = assertInstanceOf(Plan.HpaChange.Create.class, plan(spec, NO_STATUS, 1, null, null).hpa())
                .desired().path("metadata");
        assertEquals("payments", meta.path("labels").path("team").asText());
        assertFalse(meta.path("labels").has("cost-center"), "excluded by scaledobject.keda.sh/hpa-excluded-labels");
        assertEquals("so", meta.path("labels").path("scaledobject.keda.sh/name").asText());
        assertEquals("alice", meta.path("annotations").path("owner").asText());
    }

    @Test
    void recordsAtZeroActivateWithAReplicaWriteAnHpaAndAnEvent() throws Exception {
        ScaledObjectSpec spec = kafkaSpec("");
        Plan plan = plan(spec, NO_STATUS, 0, null, measured(spec, 5));
        assertEquals(1, plan.replicaWrite());
        Plan.HpaChange.Create create = assertInstanceOf(Plan.HpaChange.Create.class, plan.hpa());
        assertEquals("keda-hpa-so", create.desired().path("metadata").path("name").asText());
        assertEquals(UID, create.desired().path("metadata").path("ownerReferences").get(0).path("uid").asText());
        assertEquals("KEDAScaleTargetActivated", plan.events().get(0).reason());
        assertEquals(5_000, plan.metrics().get(0).valueMilli(), "the adapter gets the lag in milli-units");
        assertEquals(dev.lagscaler.Defaults.FRESH_METRIC_INTERVAL, plan.pollInterval(),
                "once active, polled for fresh values (useCachedMetrics false, KEDA's default)");
    }

    /**
     * Waking from zero is two passes: the first writes the replicas (with the HPA, the activation Event and the
     * adapter's values) and comes back; the status, and the Events that compare with it, are the second's.
     */
    @Test
    void anActivationWritesItsReplicasFirstAndItsStatusInTheNextPass() throws Exception {
        ScaledObjectSpec spec = kafkaSpec("");
        Plan plan = plan(spec, NO_STATUS, 0, null, measured(spec, 5));
        assertTrue(plan.activates(0));
        assertFalse(plan.activates(2), "not from zero");
        assertTrue(plan.events().size() > 1, "the whole plan also has the status's Events: " + plan.events());
        Plan first = plan.activationFirst(java.time.Duration.ofSeconds(1));
        assertEquals(1, first.replicaWrite());
        assertEquals(plan.hpa(), first.hpa());
        assertNull(first.status(), "left to the next pass");
        assertEquals(List.of("KEDAScaleTargetActivated"), first.events().stream().map(Plan.Event::reason).toList());
        assertEquals(plan.metrics(), first.metrics());
        assertEquals(java.time.Duration.ofSeconds(1), first.requeueAfter());

        // The next pass, with the target at 1 and the status not yet written: the status and its Events, no write.
        Plan next = plan(spec, NO_STATUS, 1, null, measured(spec, 5));
        assertNull(next.replicaWrite());
        assertNotNull(next.status());
        assertFalse(next.activates(1));
        assertTrue(next.events().stream().noneMatch(e -> e.reason().equals("KEDAScaleTargetActivated")), next.events().toString());
    }

    @Test
    void anHpaIsRewrittenOnlyWhenWhatItScalesOnChanges() throws Exception {
        // The live HPA as the apiserver holds it for this object, written out by hand in KEDA's shape (with the
        // defaults the apiserver adds): the planner must find nothing to change in it.
        JsonNode live = new ObjectMapper().readTree("""
                {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "consumer"},
                 "minReplicas": 1, "maxReplicas": 100,
                 "metrics": [{"type": "External", "external": {
                   "metric": {"name": "s0-kafka-events", "selector": {"matchLabels": {"scaledobject.keda.sh/name": "so"}}},
                   "target": {"type": "AverageValue", "averageValue": "10"}}}]}""");
        ScaledObjectSpec spec = kafkaSpec("");
        Plan.HpaChange.Create create = assertInstanceOf(Plan.HpaChange.Create.class,
                plan(spec, NO_STATUS, 1, null, measured(spec, 5)).hpa());
        String hash = create.desired().path("metadata").path("annotations").path(HpaBuilder.SPEC_HASH).asText();
        assertInstanceOf(Plan.HpaChange.None.class, plan(spec, NO_STATUS, 1,
                new PlanInput.ExistingHpa(true, hash, "7", "hpa-uid", live), measured(spec, 5)).hpa());
        // Fields the HPA does not carry change nothing in it.
        ScaledObjectSpec slower = kafkaSpec("pollingInterval: 90\ncooldownPeriod: 600");
        assertInstanceOf(Plan.HpaChange.None.class, plan(slower, NO_STATUS, 1,
                new PlanInput.ExistingHpa(true, hash, "7", "hpa-uid", live), measured(slower, 5)).hpa());
        // A field it carries does: replaced, conditional on the version read.
        Plan.HpaChange.Update update = assertInstanceOf(Plan.HpaChange.Update.class,
                plan(kafkaSpec("maxReplicaCount: 7"), NO_STATUS, 1, new PlanInput.ExistingHpa(true, hash, "7", "hpa-uid", live),
                        measured(spec, 5)).hpa());
        assertEquals(7, update.desired().path("spec").path("maxReplicas").asInt());
        assertEquals("7", update.resourceVersion(), "the update carries the version read");
        assertEquals("7", update.desired().path("metadata").path("resourceVersion").asText());
        // And so does someone else's edit of the live HPA, whatever its annotation says.
        ((com.fasterxml.jackson.databind.node.ObjectNode) live).put("maxReplicas", 99);
        assertInstanceOf(Plan.HpaChange.Update.class, plan(spec, NO_STATUS, 1,
                new PlanInput.ExistingHpa(true, hash, "8", "hpa-uid", live), measured(spec, 5)).hpa());
    }

    @Test
    void scaleToZeroAfterCooldownWritesZeroAndKeepsTheHpa() throws Exception {
        ScaledObjectSpec spec = kafkaSpec("cooldownPeriod: 0");
        JsonNode wasActive = new ObjectMapper().createObjectNode().put("lastActiveTime", NOW.minusSeconds(60).toString());
        String hash = ((Plan.HpaChange.Create) plan(spec, NO_STATUS, 3, null, measured(spec, 0)).hpa())
                .desired().path("metadata").path("annotations").path(HpaBuilder.SPEC_HASH).asText();
        Plan plan = plan(spec, wasActive, 3, new PlanInput.ExistingHpa(true, hash, "1", "hpa-uid"), measured(spec, 0));
        assertEquals(0, plan.replicaWrite());
        assertEquals("KEDAScaleTargetDeactivated", plan.events().get(0).reason());
        assertInstanceOf(Plan.HpaChange.None.class, plan.hpa());
    }

    /**
     * A measurement older than three polls no longer lowers replicas: a scale-to-zero that a fresh "inactive" would
     * make is held, and the status says why. A fresh one within the bound still scales to zero.
     */
    @Test
    void anOldInactiveResultHoldsTheReplicasInsteadOfScalingToZero() throws Exception {
        ScaledObjectSpec spec = kafkaSpec("cooldownPeriod: 0\npollingInterval: 10");
        JsonNode wasActive = new ObjectMapper().createObjectNode().put("lastActiveTime", NOW.minusSeconds(3600).toString());
        TriggerResult.Measured idle = (TriggerResult.Measured) measured(spec, 0).latest();
        record Row(long ageSeconds, Integer write, String ready) {
        }
        for (Row row : List.of(new Row(0, 0, "True"), new Row(30, 0, "True"), new Row(31, null, "Unknown"),
                new Row(7200, null, "Unknown"))) {
            TriggerHealth aged = new TriggerHealth(new TriggerResult.Measured(idle.key(),
                    NOW.minusSeconds(row.ageSeconds()), idle.lag(), idle.timeLag(), idle.health()), 0);
            Plan plan = plan(spec, wasActive, 3, null, aged);
            assertEquals(row.write(), plan.replicaWrite(), "a result " + row.ageSeconds() + " s old");
            Condition ready = plan.decision().conditions().get(ScalingPolicy.READY);
            assertEquals(row.ready(), ready.status(), ready.message());
            if (row.write() == null) {
                assertEquals("StaleTriggerResult", ready.reason());
                assertTrue(ready.message().contains(row.ageSeconds() + " s old"), ready.message());
            }
        }
        // A stale "active" still counts: raising on old evidence of records is not what the bound guards against.
        TriggerResult.Measured busy = (TriggerResult.Measured) measured(spec, 500).latest();
        Plan raised = plan(spec, NO_STATUS, 0, null, new TriggerHealth(new TriggerResult.Measured(busy.key(),
                NOW.minusSeconds(7200), busy.lag(), busy.timeLag(), busy.health()), 0));
        assertEquals(1, raised.replicaWrite());
    }

    @Test
    void pausingDeletesOnlyAnHpaThisObjectOwns() throws Exception {
        ScaledObjectSpec spec = ScaledObjectParser.parse(YAML.readTree("""
                apiVersion: keda.sh/v1alpha1
                kind: ScaledObject
                metadata:
                  name: so
                  namespace: default
                  annotations: {autoscaling.keda.sh/paused: "true"}
                spec:
                  scaleTargetRef: {name: consumer}
                  triggers: [{type: kafka, metadata: {bootstrapServers: "k:9092", consumerGroup: g, topic: events}}]
                """));
        Plan owned = plan(spec, NO_STATUS, 3, new PlanInput.ExistingHpa(true, "h", "1", "hpa-uid"), measured(spec, 0));
        assertNull(owned.replicaWrite(), "paused holds the count");
        assertEquals("hpa-uid", assertInstanceOf(Plan.HpaChange.Delete.class, owned.hpa()).uid(),
                "the delete is conditional on the uid of the HPA read");
        Plan foreign = plan(spec, NO_STATUS, 3, new PlanInput.ExistingHpa(false, "h", "1", "hpa-uid"), measured(spec, 0));
        assertInstanceOf(Plan.HpaChange.None.class, foreign.hpa(), "someone else's HPA is left alone");
    }

    @Test
    void aFailingTriggerServesAnErrorThenTheFallbackValue() throws Exception {
        ScaledObjectSpec spec = kafkaSpec("fallback: {failureThreshold: 3, replicas: 4}");
        Plan.MetricValue below = plan(spec, NO_STATUS, 2, null, failing(3)).metrics().get(0);
        assertNull(below.valueMilli());
        assertTrue(below.error().startsWith("BROKER_UNREACHABLE"), below.error());
        Plan above = plan(spec, NO_STATUS, 2, null, failing(4));
        assertEquals(4 * 10 * 1000, above.metrics().get(0).valueMilli(), "4 replicas x lagThreshold 10");
        assertTrue(above.metrics().get(0).fallback());
        assertEquals(4, above.replicaWrite());
    }

    @Test
    void anInvalidCpuTriggerIsNotReadyInTheOperatorAndInEvaluate() throws Exception {
        ScaledObjectSpec spec = spec("""
                - type: kafka
                  metadata: {bootstrapServers: "k:9092", consumerGroup: g, topic: events}
                - type: cpu
                  metadata: {value: "half"}
                """, "");
        Plan plan = ReconcilePlanner.plan(new PlanInput(spec, UID, NO_STATUS, 1, null, resolve(spec),
                Map.of(0, measured(spec, 0)), FAST, NOW));
        var ready = plan.decision().conditions().get("Ready");
        assertEquals("False", ready.status());
        assertEquals("ScaledObjectCheckFailed", ready.reason());
        assertTrue(ready.message().contains("metadata.value"), ready.message());
        assertEquals("ScaledObjectCheckFailed", plan.events().get(0).reason());
    }

    @Test
    void notReadyRecordsOneEventPerNewReason() {
        Plan first = ReconcilePlanner.notReady(NO_STATUS, "ScaleTargetNotFound", "Deployment x not found", NOW, null);
        assertEquals(1, first.events().size());
        Plan again = ReconcilePlanner.notReady(first.status(), "ScaleTargetNotFound", "Deployment x not found",
                NOW.plusSeconds(10), null);
        assertTrue(again.writesNothing(), () -> "same reason again: " + again);
        assertFalse(ReconcilePlanner.notReady(first.status(), "ScaledObjectCheckFailed", "other", NOW, null)
                .events().isEmpty());
    }

    @Test
    void theActivationIntervalAnnotationOverridesTheOperatorDefault() throws Exception {
        ScaledObjectSpec annotated = ScaledObjectParser.parse(YAML.readTree("""
                apiVersion: keda.sh/v1alpha1
                kind: ScaledObject
                metadata:
                  name: so
                  namespace: default
                  annotations: {lagscaler.dev/activation-polling-interval: 500ms}
                spec:
                  scaleTargetRef: {name: consumer}
                  triggers: [{type: kafka, metadata: {bootstrapServers: "k:9092", consumerGroup: g, topic: t}}]
                """));
        assertEquals(Duration.ofMillis(500), ReconcilePlanner.pollInterval(annotated, 0, FAST));
        assertEquals(dev.lagscaler.Defaults.FRESH_METRIC_INTERVAL, ReconcilePlanner.pollInterval(annotated, 2, FAST),
                "above zero with useCachedMetrics false (KEDA's default): fresh values for the HPA");
        // Out of range is Ready=False naming the annotation (before: this number overflowed inside the reconcile).
        for (String bad : List.of("99999999999999999999h", "10ms", "2h", "soon")) {
            var e = org.junit.jupiter.api.Assertions.assertThrows(dev.lagscaler.scaling.ScaledObjectInvalid.class,
                    () -> ScaledObjectParser.parse(YAML.readTree("""
                            apiVersion: keda.sh/v1alpha1
                            kind: ScaledObject
                            metadata:
                              name: so
                              namespace: default
                              annotations: {lagscaler.dev/activation-polling-interval: "%s"}
                            spec:
                              scaleTargetRef: {name: consumer}
                              triggers: [{type: kafka, metadata: {bootstrapServers: "k:9092", consumerGroup: g, topic: t}}]
                            """.formatted(bad))));
            assertTrue(e.getMessage().contains("lagscaler.dev/activation-polling-interval"), e.getMessage());
        }
    }

    /**
     * A mistake in user input outside the triggers keeps the HPA that works and the count, and says what is wrong.
     * Before: an unparsable paused-replicas annotation, or minReplicaCount 0 with only cpu triggers, planned no HPA
     * and deleted the live one.
     */
    @Test
    void aMistakeInUserInputKeepsTheHpaThatWorks() throws Exception {
        ScaledObjectSpec badPause = ScaledObjectParser.parse(YAML.readTree("""
                apiVersion: keda.sh/v1alpha1
                kind: ScaledObject
                metadata:
                  name: so
                  namespace: default
                  annotations: {autoscaling.keda.sh/paused-replicas: "three"}
                spec:
                  scaleTargetRef: {name: consumer}
                  triggers: [{type: kafka, metadata: {bootstrapServers: "k:9092", consumerGroup: g, topic: events}}]
                """));
        ScaledObjectSpec cpuFromZero = spec("""
                - type: cpu
                  metricType: Utilization
                  metadata: {value: "60"}
                """, "minReplicaCount: 0");
        for (ScaledObjectSpec spec : List.of(badPause, cpuFromZero)) {
            Plan plan = plan(spec, NO_STATUS, 3, new PlanInput.ExistingHpa(true, "h", "9", "hpa-uid"), measured(kafkaSpec(""), 0));
            assertInstanceOf(Plan.HpaChange.None.class, plan.hpa(), "the HPA stays: " + plan.reason());
            assertNull(plan.replicaWrite());
            Condition ready = plan.decision().conditions().get(ScalingPolicy.READY);
            assertEquals("False", ready.status());
            assertEquals("ScaledObjectCheckFailed", ready.reason(), ready.message());
        }
        assertTrue(plan(badPause, NO_STATUS, 3, null, null).decision().conditions().get(ScalingPolicy.READY).message()
                .contains("\"three\""));
    }

    @Test
    void anInvalidTriggerKeepsTheLastGoodHpaAndServesAnError() throws Exception {
        // Before: a bad metadata edit (or an unreadable Secret) deleted the live HPA and its stabilization history.
        ScaledObjectSpec spec = spec("""
                - type: kafka
                  metadata: {bootstrapServers: "k:9092", consumerGroup: g, topic: events, lagThreshold: "ten"}
                """, "");
        Plan plan = plan(spec, NO_STATUS, 3, new PlanInput.ExistingHpa(true, "h", "9", "hpa-uid"), null);
        assertInstanceOf(Plan.HpaChange.None.class, plan.hpa(), "the HPA stays as it is");
        assertNull(plan.replicaWrite(), "the replica count stays as it is");
        var ready = plan.decision().conditions().get("Ready");
        assertEquals("False", ready.status());
        assertTrue(ready.message().contains("trigger 0") && ready.message().contains("lagThreshold"), ready.message());
        Plan.MetricValue value = plan.metrics().get(0);
        assertEquals("s0-kafka-events", value.metricName());
        assertNull(value.valueMilli(), "the adapter answers an error, so the HPA holds");
        assertTrue(value.error().contains("lagThreshold"), value.error());
    }
}
