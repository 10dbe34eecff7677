package dev.lagscaler.lag.kafka;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lagscaler.lag.TriggerError;
import dev.lagscaler.lag.TriggerKey;
import dev.lagscaler.lag.TriggerResult;
import dev.lagscaler.testing.EmbeddedKafka;
import dev.lagscaler.testing.KafkaTestData;
import dev.lagscaler.testing.KerberosKdc;
import dev.lagscaler.trigger.KafkaTriggerParser;
import dev.lagscaler.trigger.TriggerInput;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * {@code sasl: gssapi} as KEDA takes it (username, keytab or password, realm, kerberosConfig) against a real KDC
 * (Apache Kerby, in this JVM) and a broker whose GSSAPI listener only lets Kerberos principals in.
 */
@Tag("kafka")
class GssapiAuthTest {
    private static KerberosKdc kdc;
    private static EmbeddedKafka kafka;
    private static String keytabBase64;

    @BeforeAll
    static void start() throws Exception {
        kdc = KerberosKdc.start();
        Path brokerKeytab = kdc.keytab("kafka/localhost");
        kafka = EmbeddedKafka.start(EmbeddedKafka.Options.singleNode().withKerberos(new EmbeddedKafka.Kerberos(
                kdc.krb5ConfFile(), brokerKeytab, KerberosKdc.qualified("kafka/localhost"))));
        keytabBase64 = Base64.getEncoder().encodeToString(Files.readAllBytes(kdc.keytab("scaler")));
        kdc.addPrincipal("bob", "bob-kerberos-secret");
        KafkaTestData.createTopic(kafka.bootstrapServers(), "kerberized", 3);
        KafkaTestData.produce(kafka.bootstrapServers(), "kerberized", 0, 12);
        KafkaTestData.produce(kafka.bootstrapServers(), "kerberized", 1, 5);
        KafkaTestData.commit(kafka.bootstrapServers(), "kerberized-app", Map.of(
                new TopicPartition("kerberized", 0), 2L, new TopicPartition("kerberized", 1), 5L,
                new TopicPartition("kerberized", 2), 0L));
    }

    @AfterAll
    static void stop() {
        if (kafka != null) {
            kafka.close();
        }
        if (kdc != null) {
            kdc.close();
        }
    }

    private static TriggerResult poll(Map<String, String> auth) throws Exception {
        Map<String, String> params = new HashMap<>(auth);
        params.putAll(Map.of("sasl", "gssapi", "realm", KerberosKdc.REALM, "kerberosConfig", kdc.krb5Conf()));
        var settings = KafkaTriggerParser.parse(new TriggerInput(Map.of("bootstrapServers",
                kafka.gssapiBootstrapServers(), "consumerGroup", "kerberized-app", "topic", "kerberized"),
                params, Map.of(), null));
        AtomicReference<TriggerResult> result = new AtomicReference<>();
        try (LagEngine engine = new LagEngine(LagEngine.Options.defaults().withKafkaTimeout(Duration.ofSeconds(15)))) {
            engine.register(new TriggerKey("test", "gssapi", 0), settings, Duration.ofHours(1), result::set);
            engine.pollNow(settings.connection());
        }
        return result.get();
    }

    private static Set<Path> kerberosFiles() throws Exception {
        Path dir = Path.of(System.getProperty("java.io.tmpdir"), "kerberos");
        if (!Files.isDirectory(dir)) {
            return Set.of();
        }
        try (Stream<Path> files = Files.list(dir)) {
            return files.filter(Files::isRegularFile).collect(Collectors.toSet());
        }
    }

    @Test
    void keytabLoginMeasuresTheGroupsLagAndLeavesNoFileBehind() throws Exception {
        Set<Path> before = kerberosFiles();
        TriggerResult result = poll(Map.of("username", "scaler", "keytab", keytabBase64));
        var measured = assertInstanceOf(TriggerResult.Measured.class, result, () -> String.valueOf(result));
        assertEquals(10, measured.lag().rawTotalLag(), "12 - 2 on partition 0, 5 - 5 on 1, 0 on the empty 2");
        assertEquals(before, kerberosFiles(), "the keytab and krb5.conf written for the client are removed with it");
    }

    @Test
    void passwordLoginIsAnsweredFromMemory() throws Exception {
        TriggerResult result = poll(Map.of("username", "bob", "password", "bob-kerberos-secret"));
        var measured = assertInstanceOf(TriggerResult.Measured.class, result, () -> String.valueOf(result));
        assertEquals(10, measured.lag().rawTotalLag());
    }

    @Test
    void wrongPasswordIsAnAuthFailureThatNeverShowsIt() throws Exception {
        TriggerResult.Failed failed = assertInstanceOf(TriggerResult.Failed.class,
                poll(Map.of("username", "bob", "password", "not-bobs-password")));
        assertEquals(TriggerError.Kind.AUTH_FAILED, failed.error().kind(), failed.error().toString());
        assertFalse(failed.error().message().contains("not-bobs-password"));
    }

    @Test
    void aPrincipalTheKdcDoesNotKnowIsAnAuthFailure() throws Exception {
        TriggerResult.Failed failed = assertInstanceOf(TriggerResult.Failed.class,
                poll(Map.of("username", "mallory", "password", "guess")));
        assertEquals(TriggerError.Kind.AUTH_FAILED, failed.error().kind(), failed.error().toString());
        assertTrue(List.of("mallory", "not found", "CLIENT_NOT_FOUND", "Client not found").stream()
                .anyMatch(failed.error().message()::contains), failed.error().message());
    }
}
