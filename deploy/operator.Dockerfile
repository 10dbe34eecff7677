# The operator image: the scaler module's classes and its runtime class path (scaler/target/lib), nothing else:
# no adapter, no test kit, no Kafka broker. Build from the repo root:
#   ./mvnw -B -DskipTests -pl scaler -am clean package && docker build -f deploy/operator.Dockerfile -t lagscaler/operator:0.1.0 .
FROM eclipse-temurin:17-jre
RUN useradd --uid 10001 --no-create-home lagscaler
COPY scaler/target/classes /app/classes
COPY scaler/target/lib /app/lib
USER 10001
ENTRYPOINT ["java", "-XX:MaxRAMPercentage=75", "-cp", "/app/classes:/app/lib/*", "dev.lagscaler.controller.OperatorCommand"]
