package dev.lagscaler.tls;

import java.io.IOException;
import java.io.StringWriter;
import java.math.BigInteger;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * A tiny certificate authority for the local control plane and the tests' TLS servers: EC P-256 keys,
 * certificates as PEM files. Development only.
 */
public final class Pki {
    private static final SecureRandom RANDOM = new SecureRandom();

    /** A key pair with its certificate; {@code issuer} is null for a self-signed CA. */
    public record Issued(KeyPair keys, X509Certificate certificate) {
        public String certificatePem() {
            return pem(certificate);
        }

        public String privateKeyPem() {
            return pkcs8Pem(keys.getPrivate());
        }

        /** Writes {@code name.crt} and {@code name.key} into {@code dir}. */
        public void write(Path dir, String name) throws IOException {
            Files.writeString(dir.resolve(name + ".crt"), certificatePem());
            Files.writeString(dir.resolve(name + ".key"), privateKeyPem());
        }
    }

    private Pki() {
    }

    public static KeyPair newKeyPair() {
        try {
            KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
            generator.initialize(new ECGenParameterSpec("secp256r1"), RANDOM);
            return generator.generateKeyPair();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    public static Issued ca(String commonName) {
        KeyPair keys = newKeyPair();
        return new Issued(keys, sign(new X500Name("CN=" + commonName), keys, null, true, List.of(), List.of(), null));
    }

    /** A serving certificate for the given DNS names and IP addresses. */
    public static Issued server(Issued ca, String commonName, List<String> dnsNames, List<String> ips) {
        KeyPair keys = newKeyPair();
        return new Issued(keys, sign(new X500Name("CN=" + commonName), keys, ca, false, dnsNames, ips,
                KeyPurposeId.id_kp_serverAuth));
    }

    /** A client certificate: Kubernetes reads the user from CN and the groups from O. */
    public static Issued client(Issued ca, String user, List<String> groups) {
        KeyPair keys = newKeyPair();
        StringBuilder subject = new StringBuilder();
        for (String group : groups) {
            subject.append("O=").append(group.replace(",", "\\,")).append(',');
        }
        subject.append("CN=").append(user);
        return new Issued(keys, sign(new X500Name(subject.toString()), keys, ca, false, List.of(), List.of(),
                KeyPurposeId.id_kp_clientAuth));
    }

    private static X509Certificate sign(X500Name subject, KeyPair keys, Issued issuer, boolean isCa,
                                        List<String> dnsNames, List<String> ips, KeyPurposeId purpose) {
        try {
            Instant now = Instant.now();
            X500Name issuerName = issuer == null ? subject
                    : new X500Name(issuer.certificate().getSubjectX500Principal().getName());
            JcaX509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(issuerName,
                    new BigInteger(64, RANDOM).abs().add(BigInteger.ONE), Date.from(now.minus(Duration.ofHours(1))),
                    Date.from(now.plus(Duration.ofDays(365))), subject, keys.getPublic());
            builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(isCa));
            builder.addExtension(Extension.keyUsage, true, isCa
                    ? new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign | KeyUsage.digitalSignature)
                    : new KeyUsage(KeyUsage.digitalSignature | KeyUsage.keyEncipherment));
            if (purpose != null) {
                builder.addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(purpose));
            }
            List<GeneralName> names = new ArrayList<>();
            dnsNames.forEach(n -> names.add(new GeneralName(GeneralName.dNSName, n)));
            for (String ip : ips) {
                names.add(new GeneralName(GeneralName.iPAddress, InetAddress.getByName(ip).getHostAddress()));
            }
            if (!names.isEmpty()) {
                builder.addExtension(Extension.subjectAlternativeName, false,
                        new GeneralNames(names.toArray(GeneralName[]::new)));
            }
            var signer = new JcaContentSignerBuilder("SHA256withECDSA")
                    .build(issuer == null ? keys.getPrivate() : issuer.keys().getPrivate());
            return new JcaX509CertificateConverter().getCertificate(builder.build(signer));
        } catch (IOException | GeneralSecurityException | OperatorCreationException e) {
            throw new IllegalStateException("could not issue a certificate for " + subject, e);
        }
    }

    /**
     * A TLS context that presents {@code identity} (null for none) and trusts {@code trusted} (null: the JDK's
     * default trust), for the tests' servers and clients and the local control plane's admin client.
     */
    public static javax.net.ssl.SSLContext sslContext(Issued identity, Issued trusted) {
        try {
            javax.net.ssl.KeyManager[] keyManagers = null;
            if (identity != null) {
                java.security.KeyStore keys = java.security.KeyStore.getInstance("PKCS12");
                keys.load(null, null);
                keys.setKeyEntry("identity", identity.keys().getPrivate(), new char[0],
                        new java.security.cert.Certificate[] {identity.certificate()});
                javax.net.ssl.KeyManagerFactory kmf = javax.net.ssl.KeyManagerFactory.getInstance(
                        javax.net.ssl.KeyManagerFactory.getDefaultAlgorithm());
                kmf.init(keys, new char[0]);
                keyManagers = kmf.getKeyManagers();
            }
            javax.net.ssl.TrustManager[] trustManagers = null;
            if (trusted != null) {
                java.security.KeyStore trust = java.security.KeyStore.getInstance("PKCS12");
                trust.load(null, null);
                trust.setCertificateEntry("ca", trusted.certificate());
                javax.net.ssl.TrustManagerFactory tmf = javax.net.ssl.TrustManagerFactory.getInstance(
                        javax.net.ssl.TrustManagerFactory.getDefaultAlgorithm());
                tmf.init(trust);
                trustManagers = tmf.getTrustManagers();
            }
            javax.net.ssl.SSLContext context = javax.net.ssl.SSLContext.getInstance("TLS");
            context.init(keyManagers, trustManagers, null);
            return context;
        } catch (IOException | GeneralSecurityException e) {
            throw new IllegalStateException("could not build a TLS context", e);
        }
    }

    /** Writes a bare key pair as {@code name.key} (PKCS#8) and {@code name.pub}. */
    public static void writeKeyPair(KeyPair keys, Path dir, String name) throws IOException {
        Files.writeString(dir.resolve(name + ".key"), pkcs8Pem(keys.getPrivate()));
        Files.writeString(dir.resolve(name + ".pub"), pem(keys.getPublic()));
    }

    /** JCA encodes private keys as PKCS#8, which is what "PRIVATE KEY" PEM holds. */
    static String pkcs8Pem(java.security.PrivateKey key) {
        String base64 = java.util.Base64.getMimeEncoder(64, "\n".getBytes()).encodeToString(key.getEncoded());
        return "-----BEGIN PRIVATE KEY-----\n" + base64 + "\n-----END PRIVATE KEY-----\n";
    }

    static String pem(Object object) {
        StringWriter out = new StringWriter();
        try (JcaPEMWriter writer = new JcaPEMWriter(out)) {
            writer.writeObject(object);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        return out.toString();
    }
}
