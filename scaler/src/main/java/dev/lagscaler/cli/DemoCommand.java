package dev.lagscaler.cli;

import dev.lagscaler.lag.LagEngine;
import dev.lagscaler.lag.TriggerKey;
import dev.lagscaler.lag.TriggerResult;
import dev.lagscaler.testing.EmbeddedKafka;
import dev.lagscaler.testing.LocalControlPlane;
import dev.lagscaler.trigger.KafkaTriggerParser;
import dev.lagscaler.trigger.KafkaTriggerSettings;
import dev.lagscaler.trigger.TriggerInput;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringSerializer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code lagscaler demo}: the product on an embedded default, with no cluster needed: a real local Kafka broker and
 * a real local control plane, the seed Deployment, a backlog, and the seed trigger measured against it.
 */
@Command(name = "demo", mixinStandardHelpOptions = true,
        description = "Runs lagscaler's main job on an embedded Kafka broker and local control plane.")
final class DemoCommand implements Callable<Integer> {
    @Option(names = "--hold", description = "Keep everything running and watch the lag until interrupted.")
    boolean hold;

    @Option(names = "--records", defaultValue = "400", description = "Records to produce (default ${DEFAULT-VALUE}).")
    int records;

    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        out.println("starting an embedded Kafka broker and a local control plane...");
        out.flush();
        try (EmbeddedKafka kafka = EmbeddedKafka.start(EmbeddedKafka.Options.singleNode());
             LocalControlPlane plane = LocalControlPlane.start(LocalControlPlane.Options.temporary());
             LagEngine engine = new LagEngine(LagEngine.Options.defaults())) {
            out.printf("kafka: %s (started in %d ms)%ncontrol plane: %s (started in %d ms), kubeconfig %s%n",
                    kafka.bootstrapServers(), kafka.startupTime().toMillis(), plane.url(),
                    plane.startupTime().toMillis(), plane.kubeconfig());
            plane.kubectl("create", "deployment", "consumer-deployment", "--image=consumer:1.0", "--replicas=1");
            out.println(plane.kubectl("get", "deployment", "consumer-deployment").strip());

            String bootstrap = kafka.bootstrapServers();
            int partitions = 10;
            try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap))) {
                admin.createTopics(List.of(new NewTopic("events", partitions, (short) 1))).all().get(30, TimeUnit.SECONDS);
                produce(bootstrap, "events", partitions, records);
                // The group has consumed the first half of partition 0 only.
                admin.alterConsumerGroupOffsets("my-group", Map.of(new TopicPartition("events", 0),
                        new OffsetAndMetadata(records / partitions / 2))).all().get(30, TimeUnit.SECONDS);
            }
            out.printf("produced %d records over %d partitions of topic events; group my-group committed on partition 0%n%n",
                    records, partitions);

            Map<String, String> seed = new HashMap<>(Map.of("bootstrapServers", bootstrap, "consumerGroup", "my-group",
                    "topic", "events", "lagThreshold", "50"));
            KafkaTriggerSettings settings = KafkaTriggerParser.parse(TriggerInput.ofMetadata(seed));
            AtomicReference<TriggerResult> latest = new AtomicReference<>();
            engine.register(new TriggerKey("default", "kafka-scaledobject", 0), settings, Duration.ofSeconds(1), latest::set);
            do {
                engine.pollNow(settings.connection());
                LagCommand.print(out, settings, latest.get());
                out.println();
                out.flush();
                if (hold) {
                    Thread.sleep(5000);
                }
            } while (hold);
            return latest.get() instanceof TriggerResult.Measured ? 0 : 1;
        }
    }

    private static void produce(String bootstrap, String topic, int partitions, int count) {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(p)) {
            for (int i = 0; i < count; i++) {
                producer.send(new ProducerRecord<>(topic, i % partitions, null, "event-" + i));
            }
            producer.flush();
        }
    }
}
