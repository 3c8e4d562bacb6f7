package dev.orderstream.example;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.File;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import org.apache.avro.Schema;
import org.apache.avro.SchemaNormalization;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericDatumReader;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.io.BinaryDecoder;
import org.apache.avro.io.DecoderFactory;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/**
 * Reads orderstream's orders.canonical.v1 and orders.state.v1 from the beginning to their current end, decoding every
 * value whichever its encoding, by its first byte:
 *
 * <ul>
 *   <li>{@code 00} + 4-byte schema id: the Confluent wire format (registry mode). The writer schema comes from the
 *       registry's {@code GET /schemas/ids/<id>} (any Confluent-compatible registry), cached per id.
 *   <li>{@code C3 01} + 8-byte little-endian CRC-64-AVRO fingerprint: Avro single-object encoding. The writer schema
 *       is the .avsc whose Parsing Canonical Form has that fingerprint.
 * </ul>
 *
 * Each record is resolved to the reader schema of its full name (our .avsc files), so records of older or newer
 * compatible schema versions read as the version this consumer was built with.
 *
 * <p>Then, with {@code --api}, it compares the latest state per key with what order-state's query API reports. It
 * prints one JSON summary line and exits 0 only when every record decoded and every state agrees.
 *
 * <p>Usage: {@code java -cp 'test/java/target/lib/*' test/java/src/main/java/dev/orderstream/example/OrderstreamConsumer.java
 * --brokers 127.0.0.1:9092 --schemas schemas/avro [--registry URL] [--prefix P] [--api http://127.0.0.1:8080]}
 */
public final class OrderstreamConsumer {
  private final Map<String, Schema> readers = new HashMap<>(); // by full name
  private final Map<Long, Schema> byFingerprint = new HashMap<>();
  private final Map<Integer, Schema> byId = new HashMap<>();
  private final String registry;
  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  private final ObjectMapper json = new ObjectMapper();

  OrderstreamConsumer(File schemaDir, String registry) throws Exception {
    this.registry = registry;
    for (String file : new String[] {"canonical-order.avsc", "order-state.avsc", "snapshot-marker.avsc"}) {
      Schema s = new Schema.Parser().parse(new File(schemaDir, file)); // each file is self-contained
      readers.put(s.getFullName(), s);
      byFingerprint.put(SchemaNormalization.parsingFingerprint64(s), s);
    }
  }

  /** What one value decoded to, and how it was encoded. */
  record Decoded(GenericRecord value, String encoding) {}

  Decoded decode(byte[] bytes) throws Exception {
    Schema writer;
    int offset;
    String encoding;
    if (bytes.length >= 5 && bytes[0] == 0) {
      int id = ByteBuffer.wrap(bytes, 1, 4).getInt();
      writer = schemaById(id);
      offset = 5;
      encoding = "confluent";
    } else if (bytes.length >= 10 && (bytes[0] & 0xff) == 0xc3 && bytes[1] == 1) {
      long fp = ByteBuffer.wrap(bytes, 2, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
      writer = byFingerprint.get(fp);
      if (writer == null) throw new IllegalStateException(String.format("unknown writer fingerprint %016x", fp));
      offset = 10;
      encoding = "single-object";
    } else {
      throw new IllegalStateException("neither Confluent (00) nor single-object (C3 01) encoding");
    }
    Schema reader = readers.get(writer.getFullName());
    if (reader == null) throw new IllegalStateException("no reader schema for " + writer.getFullName());
    BinaryDecoder in = DecoderFactory.get().binaryDecoder(bytes, offset, bytes.length - offset, null);
    GenericRecord value = new GenericDatumReader<GenericRecord>(writer, reader).read(null, in);
    if (!in.isEnd()) throw new IllegalStateException("trailing bytes after the record");
    return new Decoded(value, encoding);
  }

  private Schema schemaById(int id) throws Exception {
    Schema cached = byId.get(id);
    if (cached != null) return cached;
    if (registry == null) throw new IllegalStateException("Confluent value with schema id " + id + " but no --registry");
    HttpResponse<String> res = http.send(
        HttpRequest.newBuilder(URI.create(registry + "/schemas/ids/" + id)).timeout(Duration.ofSeconds(10)).build(),
        HttpResponse.BodyHandlers.ofString());
    if (res.statusCode() != 200) throw new IllegalStateException("registry: schema id " + id + ": HTTP " + res.statusCode());
    Schema s = new Schema.Parser().parse(json.readTree(res.body()).get("schema").asText());
    byId.put(id, s);
    return s;
  }

  /** Per-topic tallies. */
  static final class Tally {
    long records, tombstones, decoded, confluent, singleObject, markers;
    final List<String> failures = new ArrayList<>();

    String json() {
      return String.format(
          "{\"records\":%d,\"tombstones\":%d,\"decoded\":%d,\"confluent\":%d,\"singleObject\":%d,\"markers\":%d,\"failures\":%d}",
          records, tombstones, decoded, confluent, singleObject, markers, failures.size());
    }
  }

  /** Reads a topic from the beginning to the end offsets it had when we started (read_committed). */
  Tally read(String brokers, String topic, Map<String, GenericRecord> latest) throws Exception {
    Properties p = new Properties();
    p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, brokers);
    p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
    p.put(ConsumerConfig.CLIENT_ID_CONFIG, "orderstream-java-example");
    Tally t = new Tally();
    try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
      List<TopicPartition> parts = new ArrayList<>();
      for (PartitionInfo info : consumer.partitionsFor(topic, Duration.ofSeconds(30))) parts.add(new TopicPartition(topic, info.partition()));
      consumer.assign(parts);
      consumer.seekToBeginning(parts);
      Map<TopicPartition, Long> end = consumer.endOffsets(parts);
      long deadline = System.currentTimeMillis() + 60_000;
      while (parts.stream().anyMatch(tp -> consumer.position(tp) < end.get(tp))) {
        if (System.currentTimeMillis() > deadline) throw new IllegalStateException("did not reach the end of " + topic + " within 60 s");
        for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(500))) {
          if (r.offset() >= end.get(new TopicPartition(r.topic(), r.partition()))) continue;
          t.records++;
          String key = r.key() == null ? "" : new String(r.key(), StandardCharsets.UTF_8);
          if (r.value() == null) {
            t.tombstones++;
            if (latest != null) latest.remove(key);
            continue;
          }
          try {
            Decoded d = decode(r.value());
            t.decoded++;
            if (d.encoding().equals("confluent")) t.confluent++;
            else t.singleObject++;
            if (d.value().getSchema().getName().equals("SnapshotMarker")) t.markers++;
            if (latest != null) latest.put(key, d.value());
          } catch (Exception e) {
            if (t.failures.size() < 10) t.failures.add(topic + "@" + r.partition() + ":" + r.offset() + ": " + e);
            else t.failures.add("");
          }
        }
      }
    }
    return t;
  }

  /** Every order the query API reports, by orderKey (all pages). */
  Map<String, JsonNode> apiOrders(String api) throws Exception {
    Map<String, JsonNode> out = new TreeMap<>();
    String cursor = null;
    do {
      String url = api + "/orders?limit=1000" + (cursor == null ? "" : "&cursor=" + URLEncoder.encode(cursor, StandardCharsets.UTF_8));
      HttpResponse<String> res = http.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
      if (res.statusCode() != 200) throw new IllegalStateException("query API: HTTP " + res.statusCode() + ": " + res.body());
      JsonNode page = json.readTree(res.body());
      for (JsonNode s : page.get("orders")) out.put(s.get("order").get("orderKey").asText(), s);
      cursor = page.get("nextCursor").isNull() ? null : page.get("nextCursor").asText();
    } while (cursor != null);
    return out;
  }

  /** Field-by-field differences between an Avro value and its JSON from the query API ("" when equal). */
  static String diff(String path, Object avro, JsonNode api) {
    if (avro == null) return api == null || api.isNull() ? "" : path + ": null vs " + api + "; ";
    if (api == null || api.isNull()) return path + ": " + avro + " vs null; ";
    if (avro instanceof GenericRecord rec) {
      StringBuilder sb = new StringBuilder();
      for (Schema.Field f : rec.getSchema().getFields()) sb.append(diff(path + "." + f.name(), rec.get(f.name()), api.get(f.name())));
      return sb.toString();
    }
    if (avro instanceof Map<?, ?> map) {
      StringBuilder sb = new StringBuilder();
      if (map.size() != api.size()) sb.append(path).append(": ").append(map.size()).append(" entries vs ").append(api.size()).append("; ");
      for (Map.Entry<?, ?> e : map.entrySet()) sb.append(diff(path + "." + e.getKey(), e.getValue(), api.get(e.getKey().toString())));
      return sb.toString();
    }
    if (avro instanceof List<?> list) {
      StringBuilder sb = new StringBuilder();
      if (list.size() != api.size()) return path + ": " + list.size() + " items vs " + api.size() + "; ";
      for (int i = 0; i < list.size(); i++) sb.append(diff(path + "[" + i + "]", list.get(i), api.get(i)));
      return sb.toString();
    }
    String a = avro instanceof GenericData.EnumSymbol ? avro.toString() : String.valueOf(avro);
    String b = api.isTextual() ? api.asText() : api.toString();
    return a.equals(b) ? "" : path + ": " + a + " vs " + b + "; ";
  }

  public static void main(String[] args) throws Exception {
    Map<String, String> opt = new HashMap<>();
    for (int i = 0; i + 1 < args.length; i += 2) opt.put(args[i].replaceFirst("^--", ""), args[i + 1]);
    String brokers = opt.get("brokers");
    if (brokers == null || opt.get("schemas") == null) {
      System.err.println("usage: --brokers host:port --schemas schemas/avro [--registry URL] [--prefix P] [--api URL]");
      System.exit(2);
    }
    String prefix = opt.getOrDefault("prefix", "");
    OrderstreamConsumer c = new OrderstreamConsumer(new File(opt.get("schemas")), opt.get("registry"));
    Tally canonical = c.read(brokers, prefix + "orders.canonical.v1", null);
    Map<String, GenericRecord> state = new TreeMap<>();
    Tally stateTally = c.read(brokers, prefix + "orders.state.v1", state);

    List<String> problems = new ArrayList<>();
    problems.addAll(canonical.failures);
    problems.addAll(stateTally.failures);
    int compared = 0;
    int apiCount = -1;
    if (opt.get("api") != null) {
      Map<String, JsonNode> api = c.apiOrders(opt.get("api"));
      apiCount = api.size();
      if (!api.keySet().equals(state.keySet())) problems.add("keys differ: topic " + state.size() + ", API " + api.size());
      for (Map.Entry<String, GenericRecord> e : state.entrySet()) {
        String d = diff(e.getKey(), e.getValue(), api.get(e.getKey()));
        compared++;
        if (!d.isEmpty() && problems.size() < 20) problems.add(d);
      }
    }
    System.out.printf(
        "{\"canonical\":%s,\"state\":%s,\"keys\":%d,\"apiOrders\":%d,\"compared\":%d,\"problems\":%s}%n",
        canonical.json(), stateTally.json(), state.size(), apiCount, compared,
        new ObjectMapper().writeValueAsString(problems.stream().filter(s -> !s.isEmpty()).toList()));
    System.exit(problems.isEmpty() ? 0 : 1);
  }
}
