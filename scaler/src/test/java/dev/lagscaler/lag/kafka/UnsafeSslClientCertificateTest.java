package dev.lagscaler.lag.kafka;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

import dev.lagscaler.lag.TriggerKey;
import dev.lagscaler.lag.TriggerResult;
import dev.lagscaler.testing.EmbeddedKafka;
import dev.lagscaler.testing.KafkaTestData;
import dev.lagscaler.tls.Pki;
import dev.lagscaler.trigger.KafkaTriggerParser;
import dev.lagscaler.trigger.TriggerInput;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@code unsafeSsl: true} with a client certificate, against a broker whose SASL_SSL listener requires one
 * ({@code ssl.client.auth=required}, trusting a client CA of the test's own): the certificate is presented, as KEDA
 * presents it, while the broker's own certificate goes unchecked. Before, the trust-all path built no key managers,
 * so the handshake failed for want of a client certificate.
 */
class UnsafeSslClientCertificateTest {
    private static final Pki.Issued CLIENT_CA = Pki.ca("lagscaler-test-clients");
    private static EmbeddedKafka kafka;

    @BeforeAll
    static void startBroker() throws Exception {
        kafka = EmbeddedKafka.start(EmbeddedKafka.Options.singleNode().withScramUsers(Map.of("alice", "alice-secret"))
                .withSaslTls(true).withExtraProperties(Map.of(
                        "listener.name.sasl_ssl.ssl.client.auth", "required",
                        "listener.name.sasl_ssl.ssl.truststore.type", "PEM",
                        "listener.name.sasl_ssl.ssl.truststore.certificates", CLIENT_CA.certificatePem())));
    }

    @AfterAll
    static void stopBroker() {
        if (kafka != null) {
            kafka.close();
        }
    }

    private static TriggerResult poll(Map<String, String> metadata, Map<String, String> auth) throws Exception {
        Map<String, String> m = new HashMap<>(Map.of("bootstrapServers", kafka.saslBootstrapServers(),
                "consumerGroup", "unsafe-app", "topic", "unsafe-events"));
        m.putAll(metadata);
        Map<String, String> a = new HashMap<>(Map.of("sasl", "scram_sha512", "username", "alice",
                "password", "alice-secret", "tls", "enable"));
        a.putAll(auth);
        var settings = KafkaTriggerParser.parse(new TriggerInput(m, a, Map.of(), null));
        AtomicReference<TriggerResult> result = new AtomicReference<>();
        try (LagEngine engine = new LagEngine(LagEngine.Options.defaults().withKafkaTimeout(Duration.ofSeconds(10)))) {
            engine.register(new TriggerKey("test", "unsafe", 0), settings, Duration.ofHours(1), result::set);
            engine.pollNow(settings.connection());
        }
        return result.get();
    }

    @Test
    void unsafeSslStillPresentsTheClientCertificate() throws Exception {
        KafkaTestData.createTopic(kafka.bootstrapServers(), "unsafe-events", 2);
        Pki.Issued client = Pki.client(CLIENT_CA, "alice", List.of());
        Map<String, String> certificate = Map.of("cert", client.certificatePem(), "key", client.privateKeyPem());

        var unsafe = assertInstanceOf(TriggerResult.Measured.class,
                poll(Map.of("unsafeSsl", "true"), certificate), "unsafeSsl with a client certificate").lag();
        assertEquals(2, unsafe.metricValue(), "no commits: 1 per partition");
        // The same certificate on the verifying path, for comparison.
        assertInstanceOf(TriggerResult.Measured.class, poll(Map.of(), Map.of("ca", kafka.caPem(), "cert",
                client.certificatePem(), "key", client.privateKeyPem())));
        // Without one, the broker refuses the handshake: the listener really requires it.
        assertInstanceOf(TriggerResult.Failed.class, poll(Map.of("unsafeSsl", "true"), Map.of()));
    }
}
