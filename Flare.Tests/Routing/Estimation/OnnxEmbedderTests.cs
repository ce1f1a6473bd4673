using System.Text;
using Flare.Routing.Estimation.Embeddings;
using Flare.Tests.Support;
using Microsoft.Extensions.Logging;

namespace Flare.Tests.Routing.Estimation;

/// <summary>The ONNX path, on a model the test writes itself: a Gather from an embedding table, so the expected
/// sentence embedding is the normalised mean of known rows.</summary>
public sealed class OnnxEmbedderTests
{
    private static readonly string[] Vocabulary = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "cat", "dog", "sat", "the"];
    private const int Dim = 4;

    // Row i of the table: token i's hidden state.
    private static float[] Row(int token) => [token, token % 2 == 0 ? 1 : -1, token * 0.5f, 1];

    private static (string Model, string Vocabulary) WriteModel(TempDirectory dir, bool withAttentionMask = true)
    {
        var model = Path.Combine(dir.Path, "model.onnx");
        var vocab = Path.Combine(dir.Path, "vocab.txt");
        File.WriteAllBytes(model, TinyOnnx.GatherModel(Vocabulary.Length, Dim, Row, withAttentionMask));
        File.WriteAllLines(vocab, Vocabulary);
        return (model, vocab);
    }

    private static float[] Expected(params int[] tokens)
    {
        var v = new float[Dim];
        foreach (var t in tokens)
        {
            var row = Row(t);
            for (var d = 0; d < Dim; d++)
            {
                v[d] += row[d] / tokens.Length;
            }
        }

        var norm = MathF.Sqrt(v.Sum(x => x * x));
        return [.. v.Select(x => x / norm)];
    }

    [Fact]
    public void Embed_GeneratedGatherModel_IsNormalisedMeanOfTheTokensRows()
    {
        using var dir = new TempDirectory();
        var (model, vocab) = WriteModel(dir);
        using var embedder = OnnxEmbedder.Create(new OnnxEmbedderOptions { ModelPath = model, VocabularyPath = vocab });

        Assert.Equal(Dim, embedder.Dimensions);
        Assert.Equal("cpu", embedder.ExecutionProvider);
        var v = new float[Dim];
        embedder.Embed("The cat sat", v);
        var expected = Expected(2, 8, 5, 7, 3); // [CLS] the cat sat [SEP]
        for (var d = 0; d < Dim; d++)
        {
            Assert.Equal(expected[d], v[d], 5);
        }
    }

    [Fact]
    public void EmbedBatch_PromptsOfDifferentLengths_MatchOneByOne_PaddingIsMasked()
    {
        using var dir = new TempDirectory();
        var (model, vocab) = WriteModel(dir);
        using var embedder = OnnxEmbedder.Create(new OnnxEmbedderOptions { ModelPath = model, VocabularyPath = vocab, BatchSize = 2 });
        string[] prompts = ["cat", "the dog sat the cat", "dog dog", "sat"];

        var batch = ((IPromptEmbedder)embedder).EmbedBatch(prompts);

        for (var i = 0; i < prompts.Length; i++)
        {
            var single = new float[Dim];
            embedder.Embed(prompts[i], single);
            for (var d = 0; d < Dim; d++)
            {
                Assert.Equal(single[d], batch[i][d], 5);
            }
        }

        Assert.NotEqual(batch[0][0], batch[2][0], 3);
    }

    [Fact]
    public void Create_MaxTokens_CutsLongPromptsKeepingSeparator()
    {
        using var dir = new TempDirectory();
        var (model, vocab) = WriteModel(dir);
        using var embedder = OnnxEmbedder.Create(new OnnxEmbedderOptions { ModelPath = model, VocabularyPath = vocab, MaxTokens = 3 });
        var v = new float[Dim];

        embedder.Embed("cat dog dog dog", v);

        var expected = Expected(2, 5, 3); // [CLS] cat [SEP]
        Assert.Equal(expected[0], v[0], 5);
    }

    [Fact]
    public void Create_ModelWithoutAttentionMaskInput_StillRuns()
    {
        using var dir = new TempDirectory();
        var (model, vocab) = WriteModel(dir, withAttentionMask: false);
        using var embedder = OnnxEmbedder.Create(new OnnxEmbedderOptions { ModelPath = model, VocabularyPath = vocab });
        var v = new float[Dim];
        embedder.Embed("dog", v);
        Assert.Equal(Expected(2, 6, 3)[0], v[0], 5);
    }

    [Fact]
    public void Create_MissingModelFile_FailsNamingTheFile()
    {
        using var dir = new TempDirectory();
        var (_, vocab) = WriteModel(dir);
        var missing = Path.Combine(dir.Path, "nope.onnx");

        var e = Assert.Throws<InvalidOperationException>(() => OnnxEmbedder.Create(new OnnxEmbedderOptions { ModelPath = missing, VocabularyPath = vocab }));

        Assert.Contains(missing, e.Message);
        Assert.Contains("does not exist", e.Message);
    }

    [Fact]
    public void Create_BrokenModelFile_FailsWithClearMessage()
    {
        using var dir = new TempDirectory();
        var (model, vocab) = WriteModel(dir);
        File.WriteAllBytes(model, Encoding.UTF8.GetBytes("this is not a protobuf model"));

        var e = Assert.Throws<InvalidOperationException>(() => OnnxEmbedder.Create(new OnnxEmbedderOptions { ModelPath = model, VocabularyPath = vocab }));

        Assert.Contains(model, e.Message);
        Assert.Contains("could not be loaded", e.Message);
    }

    [Fact]
    public void Create_MissingVocabulary_FailsNamingTheFile()
    {
        using var dir = new TempDirectory();
        var (model, _) = WriteModel(dir);
        var missing = Path.Combine(dir.Path, "vocab-missing.txt");

        var e = Assert.Throws<InvalidOperationException>(() => OnnxEmbedder.Create(new OnnxEmbedderOptions { ModelPath = model, VocabularyPath = missing }));

        Assert.Contains(missing, e.Message);
    }

    [Fact]
    public void Create_CudaRequestedOnCpuPackage_FallsBackToCpuAndLogsWhy()
    {
        using var dir = new TempDirectory();
        var (model, vocab) = WriteModel(dir);
        var logger = new CapturingLogger();

        using var embedder = OnnxEmbedder.Create(new OnnxEmbedderOptions { ModelPath = model, VocabularyPath = vocab, UseCuda = true }, logger);

        Assert.Equal("cpu", embedder.ExecutionProvider);
        var warning = Assert.Single(logger.Entries, e => e.Level == LogLevel.Warning);
        Assert.Contains("CUDA was requested", warning.Message);
        Assert.Contains("running on the CPU", warning.Message);
        var v = new float[Dim];
        embedder.Embed("cat", v);
        Assert.Equal(Expected(2, 5, 3)[0], v[0], 5);
    }

    private sealed class CapturingLogger : ILogger
    {
        public List<(LogLevel Level, string Message)> Entries { get; } = [];

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            Entries.Add((logLevel, formatter(state, exception)));
    }
}

/// <summary>Writes ONNX ModelProto bytes by hand (ONNX is protobuf; only the few messages needed).</summary>
internal static class TinyOnnx
{
    /// <summary>inputs input_ids [, attention_mask] (int64 [batch, seq]); last_hidden_state = Gather(table, input_ids)
    /// (float [batch, seq, dim]); opset 13.</summary>
    public static byte[] GatherModel(int vocabulary, int dim, Func<int, float[]> row, bool withAttentionMask)
    {
        var raw = new byte[vocabulary * dim * 4];
        for (var t = 0; t < vocabulary; t++)
        {
            var r = row(t);
            for (var d = 0; d < dim; d++)
            {
                BitConverter.TryWriteBytes(raw.AsSpan(((t * dim) + d) * 4), r[d]);
            }
        }

        var table = Message(w => w.Varint(1, (ulong)vocabulary).Varint(1, (ulong)dim).Varint(2, 1).String(8, "table").Bytes(9, raw));
        var gather = Message(w => w.String(1, "table").String(1, "input_ids").String(2, "last_hidden_state").String(3, "gather").String(4, "Gather"));
        var graph = Message(w =>
        {
            w.Bytes(1, gather).String(2, "tiny").Bytes(5, table).Bytes(11, ValueInfo("input_ids", 7, "batch", "seq"));
            if (withAttentionMask)
            {
                w.Bytes(11, ValueInfo("attention_mask", 7, "batch", "seq"));
            }

            w.Bytes(12, ValueInfo("last_hidden_state", 1, "batch", "seq", dim.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        });
        var opset = Message(w => w.String(1, "").Varint(2, 13));
        return Message(w => w.Varint(1, 7).String(2, "flare-tests").Bytes(7, graph).Bytes(8, opset));
    }

    // ValueInfoProto{name, type: TypeProto{tensor_type: {elem_type, shape: {dim: [dim_param | dim_value]}}}}
    private static byte[] ValueInfo(string name, int elementType, params string[] dims)
    {
        var shape = Message(w =>
        {
            foreach (var d in dims)
            {
                w.Bytes(1, Message(x =>
                {
                    if (long.TryParse(d, out var value))
                    {
                        x.Varint(1, (ulong)value);
                    }
                    else
                    {
                        x.String(2, d);
                    }
                }));
            }
        });
        var tensor = Message(w => w.Varint(1, (ulong)elementType).Bytes(2, shape));
        var type = Message(w => w.Bytes(1, tensor));
        return Message(w => w.String(1, name).Bytes(2, type));
    }

    private static byte[] Message(Action<Writer> write)
    {
        var writer = new Writer();
        write(writer);
        return writer.ToArray();
    }

    private sealed class Writer
    {
        private readonly MemoryStream _stream = new();

        public Writer Varint(int field, ulong value)
        {
            Raw(((ulong)field << 3) | 0);
            Raw(value);
            return this;
        }

        public Writer Bytes(int field, byte[] value)
        {
            Raw(((ulong)field << 3) | 2);
            Raw((ulong)value.Length);
            _stream.Write(value);
            return this;
        }

        public Writer String(int field, string value) => Bytes(field, Encoding.UTF8.GetBytes(value));

        public byte[] ToArray() => _stream.ToArray();

        private void Raw(ulong value)
        {
            while (value >= 0x80)
            {
                _stream.WriteByte((byte)(value | 0x80));
                value >>= 7;
            }

            _stream.WriteByte((byte)value);
        }
    }
}
