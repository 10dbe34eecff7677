package dev.lagscaler.auth;

import dev.lagscaler.trigger.KafkaAuth;
import java.io.IOException;
import java.io.StringReader;
import java.io.StringWriter;
import java.security.PrivateKey;
import java.util.HashMap;
import java.util.Map;
import org.apache.kafka.common.config.SslConfigs;
import org.apache.kafka.common.config.types.Password;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.jce.provider.BouncyCastleProvider;
import org.bouncycastle.openssl.PEMEncryptedKeyPair;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.openssl.jcajce.JceOpenSSLPKCS8DecryptorProviderBuilder;
import org.bouncycastle.openssl.jcajce.JcePEMDecryptorProviderBuilder;
import org.bouncycastle.pkcs.PKCS8EncryptedPrivateKeyInfo;

/**
 * Turns KEDA's PEM TLS params (ca, cert, key, keyPassword) into Kafka's PEM store settings. Kafka reads only
 * unencrypted PKCS#8 keys in PEM, while users bring PKCS#1, EC or encrypted keys: Bouncy Castle converts them.
 */
final class PemStores {
    private static final BouncyCastleProvider BC = new BouncyCastleProvider();

    private PemStores() {
    }

    static Map<String, Object> sslConfig(KafkaAuth auth) {
        Map<String, Object> config = new HashMap<>();
        if (auth.ca() != null) {
            config.put(SslConfigs.SSL_TRUSTSTORE_TYPE_CONFIG, "PEM");
            config.put(SslConfigs.SSL_TRUSTSTORE_CERTIFICATES_CONFIG, new Password(auth.ca()));
        }
        if (auth.cert() != null && auth.key() != null) {
            config.put(SslConfigs.SSL_KEYSTORE_TYPE_CONFIG, "PEM");
            config.put(SslConfigs.SSL_KEYSTORE_CERTIFICATE_CHAIN_CONFIG, new Password(auth.cert()));
            config.put(SslConfigs.SSL_KEYSTORE_KEY_CONFIG, new Password(toPkcs8Pem(auth.key(), auth.keyPassword())));
        }
        return config;
    }

    /** Any PEM private key (PKCS#1, SEC1, PKCS#8, encrypted or not) as an unencrypted PKCS#8 PEM. */
    static String toPkcs8Pem(String pem, String password) {
        PrivateKey key = privateKey(pem, password);
        StringWriter out = new StringWriter();
        try (JcaPEMWriter writer = new JcaPEMWriter(out)) {
            writer.writeObject(new org.bouncycastle.openssl.jcajce.JcaPKCS8Generator(key, null));
        } catch (IOException e) {
            throw new IllegalArgumentException("key could not be written as PKCS#8 (" + e.getClass().getSimpleName() + ")");
        }
        return out.toString();
    }

    /** An unencrypted PEM private key (as {@link #toPkcs8Pem} makes it). */
    static PrivateKey privateKey(String pem) {
        return privateKey(pem, null);
    }

    private static PrivateKey privateKey(String pem, String password) {
        try (PEMParser parser = new PEMParser(new StringReader(pem))) {
            Object object = parser.readObject();
            JcaPEMKeyConverter converter = new JcaPEMKeyConverter().setProvider(BC);
            char[] pw = password == null ? new char[0] : password.toCharArray();
            PrivateKey key;
            if (object instanceof PEMEncryptedKeyPair encrypted) {
                key = converter.getKeyPair(encrypted.decryptKeyPair(new JcePEMDecryptorProviderBuilder().setProvider(BC).build(pw))).getPrivate();
            } else if (object instanceof PKCS8EncryptedPrivateKeyInfo encrypted) {
                key = converter.getPrivateKey(encrypted.decryptPrivateKeyInfo(
                        new JceOpenSSLPKCS8DecryptorProviderBuilder().setProvider(BC).build(pw)));
            } else if (object instanceof PEMKeyPair pair) {
                key = converter.getKeyPair(pair).getPrivate();
            } else if (object instanceof PrivateKeyInfo info) {
                key = converter.getPrivateKey(info);
            } else {
                throw new IllegalArgumentException("key is not a PEM private key");
            }
            return key;
        } catch (IOException | org.bouncycastle.operator.OperatorCreationException
                 | org.bouncycastle.pkcs.PKCSException e) {
            // The message of a parse failure can quote key bytes: say only what kind of failure it was.
            throw new IllegalArgumentException("key could not be read as a PEM private key ("
                    + e.getClass().getSimpleName() + ")");
        }
    }
}
