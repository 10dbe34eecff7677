package dev.lagscaler.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lagscaler.adapter.FeedSubscriber;
import dev.lagscaler.adapter.MetricStore;
import dev.lagscaler.feed.FeedTls;
import dev.lagscaler.feed.v1.MetricsFeedGrpcClient;
import dev.lagscaler.feed.v1.SubscribeRequest;
import dev.lagscaler.metrics.MetricsFeedServer;
import dev.lagscaler.testing.ChildProcess;
import dev.lagscaler.testing.FaultFigures;
import dev.lagscaler.tls.Pki;
import io.vertx.core.Vertx;
import io.vertx.core.net.SocketAddress;
import io.vertx.grpc.client.GrpcClient;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The operator → adapter feed over mutual TLS, across a real HTTP/2 connection: the adapter with its own certificate
 * gets the values; a plaintext client, a client of the same CA under another name, and a client of another CA get
 * none; a rotated operator certificate is served to new connections without a restart.
 */
@Tag("network")
class FeedMutualTlsTest {
    private static Path write(Path dir, String name, String pem) throws Exception {
        return Files.writeString(dir.resolve(name), pem);
    }

    /** Whether a subscription with {@code client} gets as far as a first message (a snapshot's end marker at least). */
    private static boolean subscribes(Vertx vertx, GrpcClient client, int port) throws Exception {
        MetricsFeedGrpcClient stub = MetricsFeedGrpcClient.create(client, SocketAddress.inetSocketAddress(port, "127.0.0.1"));
        java.util.concurrent.CompletableFuture<Boolean> got = new java.util.concurrent.CompletableFuture<>();
        vertx.runOnContext(v -> stub.subscribe(SubscribeRequest.newBuilder().setSubscriber("intruder").build())
                .onComplete((stream, failure) -> {
                    if (failure != null) {
                        got.complete(false);
                        return;
                    }
                    stream.handler(u -> got.complete(true));
                    stream.exceptionHandler(e -> got.complete(false));
                    stream.endHandler(e -> got.complete(false));
                }));
        return got.get(30, TimeUnit.SECONDS);
    }

    private static BigInteger servedSerial(int port, Pki.Issued identity, Pki.Issued ca) throws Exception {
        try (SSLSocket socket = (SSLSocket) Pki.sslContext(identity, ca).getSocketFactory().createSocket("127.0.0.1", port)) {
            socket.startHandshake();
            return ((X509Certificate) socket.getSession().getPeerCertificates()[0]).getSerialNumber();
        }
    }

    @Test
    void onlyTheAdapterWithItsCertificateReadsTheFeed() throws Exception {
        Path dir = Files.createTempDirectory("feed-tls-");
        Pki.Issued ca = Pki.ca("lagscaler-feed-ca");
        Pki.Issued operatorCert = Pki.server(ca, "lagscaler-operator", List.of("localhost"), List.of("127.0.0.1"));
        Pki.Issued adapterCert = Pki.client(ca, "lagscaler-metrics-adapter", List.of());
        Pki.Issued otherName = Pki.client(ca, "some-other-pod", List.of());
        Pki.Issued otherCa = Pki.ca("someone-elses-ca");
        Pki.Issued foreign = Pki.client(otherCa, "lagscaler-metrics-adapter", List.of());
        Path caFile = write(dir, "ca.crt", ca.certificatePem());
        FeedTls operatorTls = new FeedTls(write(dir, "op.crt", operatorCert.certificatePem()),
                write(dir, "op.key", operatorCert.privateKeyPem()), caFile, "lagscaler-metrics-adapter");
        FeedTls adapterTls = new FeedTls(write(dir, "ad.crt", adapterCert.certificatePem()),
                write(dir, "ad.key", adapterCert.privateKeyPem()), caFile, null);
        FeedTls otherNameTls = new FeedTls(write(dir, "other.crt", otherName.certificatePem()),
                write(dir, "other.key", otherName.privateKeyPem()), caFile, null);
        FeedTls foreignTls = new FeedTls(write(dir, "foreign.crt", foreign.certificatePem()),
                write(dir, "foreign.key", foreign.privateKeyPem()), caFile, null);

        Vertx vertx = Vertx.vertx();
        MetricStore store = new MetricStore();
        Map<String, Object> figures = new LinkedHashMap<>();
        try (MetricsFeedServer feed = MetricsFeedServer.start("127.0.0.1", 0, MetricsFeedServer.DEFAULT_MAX_SUBSCRIBERS,
                MetricsFeedServer.DEFAULT_STUCK_AFTER, operatorTls)) {
            feed.leading(true);
            feed.publish(MetricsFeedTest.value("s0-kafka-a", 1000));
            try (FeedSubscriber real = new FeedSubscriber(vertx, List.of(SocketAddress.inetSocketAddress(feed.port(), "127.0.0.1")),
                    store, "adapter", () -> { }, adapterTls)) {
                real.start();
                ChildProcess.await("the adapter's snapshot over mutual TLS", Duration.ofSeconds(20), Duration.ofMillis(20),
                        () -> store.synced() && MetricsFeedTest.milli(store, "s0-kafka-a") == 1000);

                boolean plaintext = subscribes(vertx, GrpcClient.client(vertx), feed.port());
                boolean sameCaOtherName = subscribes(vertx, GrpcClient.client(vertx,
                        vertx.createHttpClient(otherNameTls.clientOptions())), feed.port());
                boolean otherCaSameName = subscribes(vertx, GrpcClient.client(vertx,
                        vertx.createHttpClient(foreignTls.clientOptions())), feed.port());
                assertFalse(plaintext, "a plaintext client reads nothing");
                assertFalse(sameCaOtherName, "a certificate of the same CA under another name reads nothing");
                assertFalse(otherCaSameName, "a certificate of another CA reads nothing");
                assertEquals(1, feed.refusedPeers(), "the same-CA client was refused by name");

                // Rotation: a new operator certificate in the same files is served to new connections.
                BigInteger before = servedSerial(feed.port(), adapterCert, ca);
                assertEquals(operatorCert.certificate().getSerialNumber(), before);
                Pki.Issued rotated = Pki.server(ca, "lagscaler-operator", List.of("localhost"), List.of("127.0.0.1"));
                Files.writeString(dir.resolve("op.key"), rotated.privateKeyPem());
                Files.writeString(dir.resolve("op.crt"), rotated.certificatePem());
                long rotatedAt = System.nanoTime();
                ChildProcess.await("the rotated certificate served", Duration.ofSeconds(60), Duration.ofMillis(200),
                        () -> servedSerial(feed.port(), adapterCert, ca).equals(rotated.certificate().getSerialNumber()));
                long reloadMs = (System.nanoTime() - rotatedAt) / 1_000_000;
                assertNotEquals(before, rotated.certificate().getSerialNumber());
                feed.publish(MetricsFeedTest.value("s0-kafka-a", 2000));
                ChildProcess.await("the adapter still fed", Duration.ofSeconds(20), Duration.ofMillis(20),
                        () -> MetricsFeedTest.milli(store, "s0-kafka-a") == 2000);
                figures.put("plaintext_client_read", plaintext);
                figures.put("same_ca_other_name_read", sameCaOtherName);
                figures.put("other_ca_read", otherCaSameName);
                figures.put("refused_by_name", feed.refusedPeers());
                figures.put("rotation_to_served_ms", reloadMs);
                assertTrue(reloadMs <= FeedTls.RELOAD_EVERY.toMillis() + 5_000, reloadMs + " ms");
            }
        } finally {
            vertx.close().await();
        }
        FaultFigures.record("plaintext-client-against-feed", figures);
    }
}
