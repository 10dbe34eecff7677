package dev.lagscaler.bench;

import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.net.PemKeyCertOptions;
import io.vertx.core.net.PemTrustOptions;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A closed-loop HTTPS load generator, run as its own process by {@link AdapterBenchmark} so the server under test
 * and the load share nothing but the machine: {@code connections} requests in flight, each sent when the previous
 * answered, paths rotating over {@code objects} metrics, for {@code seconds}. It presents a client certificate and
 * X-Remote-User headers (the aggregator's way), or a bearer token, over HTTP/2 or HTTP/1.1; wrk cannot present a
 * client certificate. Prints one line: requests/s, p50, p99 (ms), and the status codes seen.
 *
 * <p>Arguments: port protocol(h1|h2) connections seconds objects auth(cert:crt,key|bearer:token|none) ca-file.
 */
public final class LoadClient {
    private LoadClient() {
    }

    public static void main(String[] args) throws Exception {
        int port = Integer.parseInt(args[0]);
        boolean h2 = args[1].equals("h2");
        int connections = Integer.parseInt(args[2]);
        int seconds = Integer.parseInt(args[3]);
        int objects = Integer.parseInt(args[4]);
        String auth = args[5];
        String ca = Files.readString(Path.of(args[6]));
        Vertx vertx = Vertx.vertx();
        HttpClientOptions options = new HttpClientOptions().setSsl(true).setUseAlpn(h2)
                .setProtocolVersion(h2 ? HttpVersion.HTTP_2 : HttpVersion.HTTP_1_1)
                .setTrustOptions(new PemTrustOptions().addCertValue(Buffer.buffer(ca))).setVerifyHost(false)
                .setHttp2MultiplexingLimit(connections);
        if (auth.startsWith("cert:")) {
            String[] files = auth.substring(5).split(",");
            options.setKeyCertOptions(new PemKeyCertOptions().addCertPath(files[0]).addKeyPath(files[1]));
        }
        HttpClient client = vertx.createHttpClient(options, new PoolOptions().setHttp1MaxSize(connections).setHttp2MaxSize(1));
        long[] latencies = new long[20_000_000];
        AtomicLong count = new AtomicLong();
        Map<Integer, Long> codes = new TreeMap<>();
        long warmupEnd = System.nanoTime() + 2_000_000_000L;
        long end = warmupEnd + seconds * 1_000_000_000L;
        CountDownLatch done = new CountDownLatch(connections);
        for (int c = 0; c < connections; c++) {
            int first = c;
            vertx.runOnContext(v -> send(client, port, auth, first, objects, latencies, count, codes, warmupEnd, end, done));
        }
        done.await();
        long n = Math.min(count.get(), latencies.length);
        long[] sorted = Arrays.copyOf(latencies, (int) n);
        Arrays.sort(sorted);
        System.out.printf("RESULT rps=%.0f p50=%.2f p99=%.2f n=%d codes=%s%n", n / (double) seconds,
                sorted.length == 0 ? 0 : sorted[sorted.length / 2] / 1e6,
                sorted.length == 0 ? 0 : sorted[(int) (sorted.length * 0.99)] / 1e6, n, codes);
        vertx.close().await();
    }

    private static void send(HttpClient client, int port, String auth, int i, int objects, long[] latencies, AtomicLong count,
                             Map<Integer, Long> codes, long warmupEnd, long end, CountDownLatch done) {
        long now = System.nanoTime();
        if (now > end) {
            done.countDown();
            return;
        }
        int object = i % objects;
        RequestOptions request = new RequestOptions().setMethod(HttpMethod.GET).setHost("127.0.0.1").setPort(port)
                .setURI("/apis/external.metrics.k8s.io/v1beta1/namespaces/bench/s0-kafka-topic-" + object
                        + "?labelSelector=scaledobject.keda.sh%2Fname%3Dso-" + object);
        if (auth.startsWith("cert:")) {
            request.putHeader("X-Remote-User", "system:serviceaccount:kube-system:horizontal-pod-autoscaler");
            request.putHeader("X-Remote-Group", "system:serviceaccounts");
        } else if (auth.startsWith("bearer:")) {
            request.putHeader("Authorization", "Bearer " + auth.substring(7));
        }
        client.request(request).compose(r -> r.send().compose(response -> response.body().map(b -> response.statusCode())))
                .onComplete(result -> {
                    if (now >= warmupEnd) {
                        long at = count.getAndIncrement();
                        if (at < latencies.length) {
                            latencies[(int) at] = System.nanoTime() - now;
                        }
                        synchronized (codes) {
                            codes.merge(result.succeeded() ? result.result() : -1, 1L, Long::sum);
                        }
                    }
                    send(client, port, auth, i + 7919, objects, latencies, count, codes, warmupEnd, end, done);
                });
    }
}
