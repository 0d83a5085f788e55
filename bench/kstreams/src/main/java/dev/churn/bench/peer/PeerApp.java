package dev.churn.bench.peer;

import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.ListOffsetsResult.ListOffsetsResultInfo;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.KStream;
import org.apache.kafka.streams.kstream.Produced;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueBytesStoreSupplier;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.StoreBuilder;
import org.apache.kafka.streams.state.Stores;

/**
 * The benchmark's Kafka Streams peer: one application over the benchmark's input topics
 * (exactly_once_v2, one stream thread), run to the end of the backlog, then closed.
 *
 * <ul>
 *   <li>{@code passthrough}: every input record to the output topic, bytes unchanged.
 *   <li>{@code stateful} / {@code inmemory}: a per-customer aggregate (records, last record
 *       timestamp, value bytes seen) in a RocksDB / in-memory key-value store with its
 *       changelog, updated from each record without decoding it; the updated aggregate (24
 *       bytes) goes to the output topic, one per input record.
 * </ul>
 *
 * <p>Done when the application's committed offsets reach the input partitions' end offsets
 * (read at start; the backlog does not grow). Prints one JSON line on stdout: records
 * processed, wall seconds from RUNNING (or the first record) to done, the JVM's CPU seconds
 * over that window, and the start-up seconds before it.
 *
 * <p>Arguments: {@code --brokers B --application-id A --topology T --inputs t1,t2
 * --output O --state-dir D [--timeout-seconds S]}.
 */
public final class PeerApp {
  static final String STORE = "customer-aggregates";

  private PeerApp() {}

  public static void main(String[] argv) throws Exception {
    Map<String, String> args = parse(argv);
    String brokers = required(args, "brokers");
    String applicationId = required(args, "application-id");
    String topology = required(args, "topology");
    List<String> inputs = Arrays.asList(required(args, "inputs").split(","));
    String output = required(args, "output");
    String stateDir = required(args, "state-dir");
    long timeoutMs = Long.parseLong(args.getOrDefault("timeout-seconds", "600")) * 1000L;

    Properties admin = new Properties();
    admin.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, brokers);
    try (Admin client = Admin.create(admin)) {
      Map<TopicPartition, Long> ends = endOffsets(client, inputs);
      long expected = 0;
      for (Map.Entry<TopicPartition, Long> e : ends.entrySet()) expected += e.getValue();
      run(client, brokers, applicationId, topology, inputs, output, stateDir, timeoutMs, ends, expected);
    }
  }

  private static void run(
      Admin client,
      String brokers,
      String applicationId,
      String topology,
      List<String> inputs,
      String output,
      String stateDir,
      long timeoutMs,
      Map<TopicPartition, Long> ends,
      long expected)
      throws Exception {
    com.sun.management.OperatingSystemMXBean os =
        (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
    long jvmStartMs = ManagementFactory.getRuntimeMXBean().getStartTime();

    AtomicLong processed = new AtomicLong();
    AtomicLong startNanos = new AtomicLong();
    AtomicLong startCpu = new AtomicLong();
    AtomicLong startWallMs = new AtomicLong();
    Runnable mark =
        () -> {
          if (startNanos.get() == 0 && startNanos.compareAndSet(0, System.nanoTime())) {
            startCpu.set(os.getProcessCpuTime());
            startWallMs.set(System.currentTimeMillis());
          }
        };

    Properties props = new Properties();
    props.put(StreamsConfig.APPLICATION_ID_CONFIG, applicationId);
    props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, brokers);
    props.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, StreamsConfig.EXACTLY_ONCE_V2);
    props.put(StreamsConfig.NUM_STREAM_THREADS_CONFIG, 1);
    props.put(StreamsConfig.STATE_DIR_CONFIG, stateDir);
    props.put(StreamsConfig.DEFAULT_KEY_SERDE_CLASS_CONFIG, Serdes.ByteArraySerde.class);
    props.put(StreamsConfig.DEFAULT_VALUE_SERDE_CLASS_CONFIG, Serdes.ByteArraySerde.class);
    props.put(StreamsConfig.consumerPrefix("auto.offset.reset"), "earliest");

    KafkaStreams streams = new KafkaStreams(build(topology, inputs, output, processed, mark), props);
    AtomicReference<Throwable> failure = new AtomicReference<>();
    streams.setUncaughtExceptionHandler(
        e -> {
          failure.compareAndSet(null, e);
          return org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse
              .SHUTDOWN_CLIENT;
        });
    streams.setStateListener(
        (next, previous) -> {
          if (next == KafkaStreams.State.RUNNING) mark.run();
        });
    streams.start();

    long deadline = System.currentTimeMillis() + timeoutMs;
    long doneNanos;
    long doneCpu;
    try {
      for (; ; ) {
        if (failure.get() != null) throw new IllegalStateException("stream thread failed", failure.get());
        KafkaStreams.State state = streams.state();
        if (state == KafkaStreams.State.ERROR || state == KafkaStreams.State.NOT_RUNNING)
          throw new IllegalStateException("Kafka Streams went " + state);
        if (processed.get() >= expected && committed(client, applicationId, ends)) {
          doneNanos = System.nanoTime();
          doneCpu = os.getProcessCpuTime();
          break;
        }
        if (System.currentTimeMillis() > deadline)
          throw new IllegalStateException(
              "did not finish within " + timeoutMs / 1000 + " s: " + processed.get() + " of " + expected + " records");
        Thread.sleep(processed.get() >= expected ? 20 : 10);
      }
    } finally {
      streams.close(Duration.ofSeconds(30));
    }
    double seconds = (doneNanos - startNanos.get()) / 1e9;
    double cpuSeconds = (doneCpu - startCpu.get()) / 1e9;
    double startupSeconds = (startWallMs.get() - jvmStartMs) / 1e3;
    System.out.printf(
        java.util.Locale.ROOT,
        "{\"topology\":\"%s\",\"records\":%d,\"expected\":%d,\"seconds\":%.4f,\"cpuSeconds\":%.4f,\"startupSeconds\":%.3f,\"kafkaStreams\":\"%s\",\"java\":\"%s\"}%n",
        topology,
        processed.get(),
        expected,
        seconds,
        cpuSeconds,
        startupSeconds,
        streamsVersion(),
        System.getProperty("java.version"));
    System.out.flush();
  }

  static Topology build(String topology, List<String> inputs, String output, AtomicLong processed, Runnable mark) {
    StreamsBuilder builder = new StreamsBuilder();
    KStream<byte[], byte[]> in = builder.stream(inputs, Consumed.with(Serdes.ByteArray(), Serdes.ByteArray()));
    switch (topology) {
      case "passthrough" -> in.peek(
              (k, v) -> {
                mark.run();
                processed.incrementAndGet();
              })
          .to(output, Produced.with(Serdes.ByteArray(), Serdes.ByteArray()));
      case "stateful", "inmemory" -> {
        KeyValueBytesStoreSupplier supplier =
            topology.equals("stateful") ? Stores.persistentKeyValueStore(STORE) : Stores.inMemoryKeyValueStore(STORE);
        StoreBuilder<KeyValueStore<Bytes, byte[]>> store =
            Stores.keyValueStoreBuilder(supplier, Serdes.Bytes(), Serdes.ByteArray()).withCachingEnabled();
        builder.addStateStore(store);
        in.process(() -> new Aggregate(processed, mark), STORE)
            .to(output, Produced.with(Serdes.ByteArray(), Serdes.ByteArray()));
      }
      default -> throw new IllegalArgumentException("--topology: passthrough, stateful or inmemory, not " + topology);
    }
    return builder.build();
  }

  /** Records, last record timestamp and value bytes per customer (the record key), 24 bytes. */
  static final class Aggregate implements Processor<byte[], byte[], byte[], byte[]> {
    private final AtomicLong processed;
    private final Runnable mark;
    private ProcessorContext<byte[], byte[]> context;
    private KeyValueStore<Bytes, byte[]> store;

    Aggregate(AtomicLong processed, Runnable mark) {
      this.processed = processed;
      this.mark = mark;
    }

    @Override
    public void init(ProcessorContext<byte[], byte[]> context) {
      this.context = context;
      this.store = context.getStateStore(STORE);
    }

    @Override
    public void process(Record<byte[], byte[]> record) {
      mark.run();
      Bytes key = Bytes.wrap(record.key());
      byte[] before = store.get(key);
      long count = 0;
      long last = Long.MIN_VALUE;
      long bytes = 0;
      if (before != null) {
        ByteBuffer b = ByteBuffer.wrap(before);
        count = b.getLong();
        last = b.getLong();
        bytes = b.getLong();
      }
      byte[] after =
          ByteBuffer.allocate(24)
              .putLong(count + 1)
              .putLong(Math.max(last, record.timestamp()))
              .putLong(bytes + (record.value() == null ? 0 : record.value().length))
              .array();
      store.put(key, after);
      context.forward(record.withValue(after));
      processed.incrementAndGet();
    }
  }

  /** The kafka-streams jar's version (kafka/kafka-streams-version.properties). */
  static String streamsVersion() {
    try (var in = KafkaStreams.class.getResourceAsStream("/kafka/kafka-streams-version.properties")) {
      Properties p = new Properties();
      if (in != null) p.load(in);
      return p.getProperty("version", "unknown");
    } catch (java.io.IOException e) {
      return "unknown";
    }
  }

  static Map<TopicPartition, Long> endOffsets(Admin client, List<String> topics) throws Exception {
    Map<TopicPartition, OffsetSpec> request = new HashMap<>();
    for (var d : client.describeTopics(topics).allTopicNames().get().values())
      for (var p : d.partitions()) request.put(new TopicPartition(d.name(), p.partition()), OffsetSpec.latest());
    Map<TopicPartition, Long> ends = new HashMap<>();
    for (Map.Entry<TopicPartition, ListOffsetsResultInfo> e : client.listOffsets(request).all().get().entrySet())
      ends.put(e.getKey(), e.getValue().offset());
    return ends;
  }

  /** Whether the group's committed offsets have reached every input partition's end. */
  static boolean committed(Admin client, String group, Map<TopicPartition, Long> ends) throws Exception {
    Map<TopicPartition, OffsetAndMetadata> offsets =
        client.listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata().get();
    for (Map.Entry<TopicPartition, Long> e : ends.entrySet()) {
      if (e.getValue() == 0) continue;
      OffsetAndMetadata o = offsets.get(e.getKey());
      if (o == null || o.offset() < e.getValue()) return false;
    }
    return true;
  }

  static Map<String, String> parse(String[] argv) {
    Map<String, String> args = new HashMap<>();
    List<String> unknown = new ArrayList<>();
    Set<String> known =
        Set.of("brokers", "application-id", "topology", "inputs", "output", "state-dir", "timeout-seconds");
    for (int i = 0; i < argv.length; i++) {
      String a = argv[i];
      if (a.startsWith("--") && known.contains(a.substring(2)) && i + 1 < argv.length) args.put(a.substring(2), argv[++i]);
      else unknown.add(a);
    }
    if (!unknown.isEmpty()) throw new IllegalArgumentException("unknown arguments: " + unknown);
    return args;
  }

  static String required(Map<String, String> args, String name) {
    String v = args.get(name);
    if (v == null || v.isEmpty()) throw new IllegalArgumentException("--" + name + " is required");
    return v;
  }
}
