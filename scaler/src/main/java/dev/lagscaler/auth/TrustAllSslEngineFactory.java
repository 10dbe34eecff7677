package dev.lagscaler.auth;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.util.ArrayList;
import java.util.List;
import javax.net.ssl.KeyManager;
import javax.net.ssl.KeyManagerFactory;
import org.apache.kafka.common.config.SslConfigs;
import org.apache.kafka.common.config.types.Password;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.util.Map;
import java.util.Set;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509TrustManager;
import org.apache.kafka.common.security.auth.SslEngineFactory;

/**
 * KEDA's {@code unsafeSsl: true}: TLS without verifying the broker's certificate. Only ever used when a user
 * explicitly asks for it. A client certificate given with it ({@code cert} and {@code key}) is still presented, as
 * KEDA presents it: skipping the broker's check is no reason to stop proving who we are.
 */
public final class TrustAllSslEngineFactory implements SslEngineFactory {
    private SSLContext context;

    @Override
    public void configure(Map<String, ?> configs) {
        try {
            context = SSLContext.getInstance("TLS");
            context.init(keyManagers(configs), new TrustManager[] {new X509TrustManager() {
                @Override
                public void checkClientTrusted(X509Certificate[] chain, String authType) {
                }

                @Override
                public void checkServerTrusted(X509Certificate[] chain, String authType) {
                }

                @Override
                public X509Certificate[] getAcceptedIssuers() {
                    return new X509Certificate[0];
                }
            }}, new SecureRandom());
        } catch (java.security.GeneralSecurityException e) {
            throw new IllegalStateException("TLS context could not be built", e);
        }
    }

    /** Key managers for the PEM client certificate and key in the client's settings; null when there are none. */
    private static KeyManager[] keyManagers(Map<String, ?> configs) throws java.security.GeneralSecurityException {
        String chain = text(configs.get(SslConfigs.SSL_KEYSTORE_CERTIFICATE_CHAIN_CONFIG));
        String key = text(configs.get(SslConfigs.SSL_KEYSTORE_KEY_CONFIG));
        if (chain == null || key == null) {
            return null;
        }
        KeyStore store = KeyStore.getInstance("PKCS12");
        try {
            store.load(null, null);
        } catch (java.io.IOException e) {
            throw new java.security.KeyStoreException(e);
        }
        List<java.security.cert.Certificate> certificates = new ArrayList<>(CertificateFactory.getInstance("X.509")
                .generateCertificates(new ByteArrayInputStream(chain.getBytes(StandardCharsets.US_ASCII))));
        char[] none = new char[0];
        store.setKeyEntry("client", PemStores.privateKey(key), none,
                certificates.toArray(new java.security.cert.Certificate[0]));
        KeyManagerFactory factory = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        factory.init(store, none);
        return factory.getKeyManagers();
    }

    private static String text(Object value) {
        return value instanceof Password p ? p.value() : value == null ? null : value.toString();
    }

    @Override
    public SSLEngine createClientSslEngine(String peerHost, int peerPort, String endpointIdentification) {
        SSLEngine engine = context.createSSLEngine(peerHost, peerPort);
        engine.setUseClientMode(true);
        return engine;
    }

    @Override
    public SSLEngine createServerSslEngine(String peerHost, int peerPort) {
        throw new UnsupportedOperationException("client only");
    }

    @Override
    public boolean shouldBeRebuilt(Map<String, Object> nextConfigs) {
        return false;
    }

    @Override
    public Set<String> reconfigurableConfigs() {
        return Set.of();
    }

    @Override
    public KeyStore keystore() {
        return null;
    }

    @Override
    public KeyStore truststore() {
        return null;
    }

    @Override
    public void close() {
    }
}
