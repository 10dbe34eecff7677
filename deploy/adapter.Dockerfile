# The metrics adapter image: the metrics-adapter module's classes and its runtime class path, nothing else.
# Build from the repo root:
#   ./mvnw -B -DskipTests -pl metrics-adapter -am clean package && docker build -f deploy/adapter.Dockerfile -t lagscaler/metrics-adapter:0.1.0 .
FROM eclipse-temurin:17-jre
RUN useradd --uid 10001 --no-create-home lagscaler
COPY metrics-adapter/target/classes /app/classes
COPY metrics-adapter/target/lib /app/lib
USER 10001
ENTRYPOINT ["java", "-XX:MaxRAMPercentage=75", "-cp", "/app/classes:/app/lib/*", "dev.lagscaler.adapter.AdapterCommand"]
