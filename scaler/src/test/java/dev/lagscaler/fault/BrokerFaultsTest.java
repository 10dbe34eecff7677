package dev.lagscaler.fault;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lagscaler.controller.Operator;
import dev.lagscaler.lag.PollStats;
import dev.lagscaler.lag.kafka.LagEngine;
import dev.lagscaler.testing.ChildProcess;
import dev.lagscaler.testing.EmbeddedKafka;
import dev.lagscaler.testing.FaultFigures;
import dev.lagscaler.testing.KafkaTestData;
import dev.lagscaler.testing.LocalControlPlane;
import dev.lagscaler.testing.WithControlPlane;
import dev.lagscaler.testing.WithKafka;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewPartitionReassignment;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.ElectionType;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.quota.ClientQuotaAlteration;
import org.apache.kafka.common.quota.ClientQuotaEntity;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Fault cases on a 3-broker cluster, one after another under an active ScaledObject whose target sits at 4 replicas
 * with a 1 s cooldown (so one wrongly measured zero would scale it to zero at once): the group coordinator killed,
 * every partition leader moved, then every client throttled by a request quota. The count must never drop; poll
 * times and failures are reported.
 */
@Tag("fault")
@WithKafka(brokers = 3)
@WithControlPlane
class BrokerFaultsTest {
    private static final String TOPIC = "brokers-events";
    private static final String GROUP = "brokers-group";

    @Test
    void coordinatorLossLeaderMovesAndThrottlingNeverScaleDown(EmbeddedKafka kafka, LocalControlPlane plane) throws Exception {
        String ns = "fault-brokers";
        plane.kubectl("create", "namespace", ns);
        plane.kubectl("-n", ns, "create", "deployment", "consumer-deployment", "--image=consumer:1.0", "--replicas=4");
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers()))) {
            admin.createTopics(List.of(new NewTopic(TOPIC, 6, (short) 3))).all().get(30, TimeUnit.SECONDS);
            ChildProcess.await("the topic on every broker", Duration.ofSeconds(30), Duration.ofMillis(200),
                    () -> admin.describeTopics(List.of(TOPIC)).allTopicNames().get().get(TOPIC).partitions().size() == 6);
            Map<TopicPartition, Long> start = new HashMap<>();
            for (int p = 0; p < 6; p++) {
                start.put(new TopicPartition(TOPIC, p), 0L);
                KafkaTestData.produce(kafka.bootstrapServers(), TOPIC, p, 20);
            }
            KafkaTestData.commit(kafka.bootstrapServers(), GROUP, start);

            List<PollStats> polls = new CopyOnWriteArrayList<>();
            Map<String, Object> figures = new LinkedHashMap<>();
            try (LagEngine engine = new LagEngine(LagEngine.Options.defaults().withKafkaTimeout(Duration.ofSeconds(3)));
                 Operator operator = FaultSupport.operator(plane, engine, "fault-brokers")) {
                engine.addPollListener(polls::add);
                operator.start();
                FaultSupport.apply(plane, ns, FaultSupport.scaledObject(kafka.bootstrapServers(), GROUP, TOPIC, ""));
                ChildProcess.await("measured and active", Duration.ofSeconds(60), Duration.ofMillis(200),
                        () -> FaultSupport.condition(plane, ns, "Active").equals("True"));

                // 1. The group coordinator dies.
                int coordinator = admin.describeConsumerGroups(List.of(GROUP)).all().get(30, TimeUnit.SECONDS)
                        .get(GROUP).coordinator().id();
                int before = polls.size();
                java.time.Instant killedAt = java.time.Instant.now();
                kafka.killNode(coordinator);
                Phase coordinatorLoss = watch(plane, ns, polls, before, Duration.ofSeconds(15));
                Optional<PollStats> firstGood = polls.subList(before, polls.size()).stream()
                        .filter(s -> !s.failed() && s.at().isAfter(killedAt)).findFirst();
                int newCoordinator = admin.describeConsumerGroups(List.of(GROUP)).all().get(30, TimeUnit.SECONDS)
                        .get(GROUP).coordinator().id();
                assertNotEquals(coordinator, newCoordinator, "the coordinator moved to a live broker");
                kafka.restart();
                figures.put("coordinator_killed", coordinator + " -> " + newCoordinator);
                figures.put("coordinator_loss", coordinatorLoss.figures());
                figures.put("coordinator_loss_first_good_poll_started_ms_after_kill",
                        firstGood.map(s -> Duration.between(killedAt, s.at()).toMillis()).orElse(-1L));

                // 2. Every partition's leader moves to another replica.
                before = polls.size();
                Map<TopicPartition, Optional<NewPartitionReassignment>> moves = new HashMap<>();
                var description = admin.describeTopics(List.of(TOPIC)).allTopicNames().get().get(TOPIC);
                for (var partition : description.partitions()) {
                    List<Integer> replicas = new ArrayList<>();
                    partition.replicas().forEach(n -> replicas.add(n.id()));
                    replicas.add(replicas.remove(0)); // the next replica becomes the preferred leader
                    moves.put(new TopicPartition(TOPIC, partition.partition()), Optional.of(new NewPartitionReassignment(replicas)));
                }
                admin.alterPartitionReassignments(moves).all().get(30, TimeUnit.SECONDS);
                ChildProcess.await("reassignments done", Duration.ofSeconds(30), Duration.ofMillis(200),
                        () -> admin.listPartitionReassignments().reassignments().get().isEmpty());
                admin.electLeaders(ElectionType.PREFERRED, Set.copyOf(moves.keySet())).partitions().get(30, TimeUnit.SECONDS);
                Phase leaderMove = watch(plane, ns, polls, before, Duration.ofSeconds(10));
                figures.put("leader_moves", leaderMove.figures());

                // 3. Every client throttled by a request quota.
                before = polls.size();
                ClientQuotaEntity everyClient = new ClientQuotaEntity(java.util.Collections.singletonMap(ClientQuotaEntity.CLIENT_ID, null));
                admin.alterClientQuotas(List.of(new ClientQuotaAlteration(everyClient,
                        List.of(new ClientQuotaAlteration.Op("request_percentage", 0.5))))).all().get(30, TimeUnit.SECONDS);
                Phase throttled;
                try {
                    throttled = watch(plane, ns, polls, before, Duration.ofSeconds(10));
                } finally {
                    admin.alterClientQuotas(List.of(new ClientQuotaAlteration(everyClient,
                            List.of(new ClientQuotaAlteration.Op("request_percentage", null))))).all().get(30, TimeUnit.SECONDS);
                }
                figures.put("throttled", throttled.figures());
                assertEquals(4, FaultSupport.replicas(plane, ns));
            }
            FaultFigures.record("broker-faults-3-brokers", figures);
        }
    }

    /** What one phase saw: the lowest replica count, polls and failures, poll times. */
    private record Phase(int lowestReplicas, int polls, int failedPolls, long p50Millis, long maxMillis) {
        Map<String, Object> figures() {
            return Map.of("lowest_replicas", lowestReplicas, "polls", polls, "failed_polls", failedPolls,
                    "poll_p50_ms", p50Millis, "poll_max_ms", maxMillis);
        }
    }

    private static Phase watch(LocalControlPlane plane, String ns, List<PollStats> polls, int from, Duration length)
            throws Exception {
        int lowest = Integer.MAX_VALUE;
        long end = System.nanoTime() + length.toNanos();
        while (System.nanoTime() < end) {
            int r = FaultSupport.replicas(plane, ns);
            lowest = Math.min(lowest, r);
            assertEquals(4, r, "a broker fault never lowers the count (cooldown 1 s: a wrong zero would show at once)");
            Thread.sleep(250);
        }
        List<PollStats> seen = new ArrayList<>(polls.subList(from, polls.size()));
        List<Long> millis = new ArrayList<>();
        seen.forEach(s -> millis.add(s.duration().toMillis()));
        millis.sort(null);
        long p50 = millis.isEmpty() ? -1 : millis.get(millis.size() / 2);
        long max = millis.isEmpty() ? -1 : millis.get(millis.size() - 1);
        return new Phase(lowest, seen.size(), (int) seen.stream().filter(PollStats::failed).count(), p50, max);
    }

}
