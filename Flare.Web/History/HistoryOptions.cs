using System.ComponentModel.DataAnnotations;

namespace Flare.Web.History;

/// <summary>The routing history's uploads and feedback: section <c>Flare:History</c>.</summary>
public sealed class HistoryOptions
{
    public const string Section = "Flare:History";

    /// <summary>Largest history file an upload may send, in bytes (default 2 GiB). Uploads are streamed to a file in
    /// the data directory, never held in memory.</summary>
    [Range(1, long.MaxValue)]
    public long MaxUploadBytes { get; set; } = 2L * 1024 * 1024 * 1024;

    /// <summary>Served requests remembered (prompt and model, in memory) so that <c>/v1/feedback</c> can label them
    /// (default 50,000); feedback for an older request, or one from before a restart, gets 404.</summary>
    [Range(1, 10_000_000)]
    public int RecentPrompts { get; set; } = 50_000;

    /// <summary>Records an import commits per transaction (default 500).</summary>
    [Range(1, 100_000)]
    public int ImportBatchSize { get; set; } = 500;
}

/// <summary>
/// How the live estimator embeds prompts: section <c>Flare:Estimator</c>. By default the built-in hashed n-gram
/// embedder (no model file); set <see cref="OnnxModelPath"/> and <see cref="OnnxVocabularyPath"/> to use a
/// sentence-embedding model instead (docs/estimator.md).
/// </summary>
public sealed class EstimatorSettings
{
    public const string Section = "Flare:Estimator";

    /// <summary>An ONNX sentence-embedding model (e.g. all-MiniLM-L6-v2 exported to ONNX); relative paths are taken from
    /// the folder Flare starts in. Default: none (the built-in embedder). A missing or broken file stops Flare at start.</summary>
    public string? OnnxModelPath { get; set; }

    /// <summary>The model's WordPiece vocabulary (<c>vocab.txt</c>); required with <see cref="OnnxModelPath"/>.</summary>
    public string? OnnxVocabularyPath { get; set; }

    /// <summary>Tokens per prompt the ONNX model sees, [CLS] and [SEP] included (default 256).</summary>
    [Range(3, 8192)]
    public int OnnxMaxTokens { get; set; } = 256;

    /// <summary>Run the ONNX model on CUDA (default false). Without a CUDA runtime (Flare ships ONNX Runtime's CPU
    /// package) Flare logs why and runs on the CPU.</summary>
    public bool UseCuda { get; set; }

    /// <summary>The CUDA device (default 0).</summary>
    [Range(0, 64)]
    public int CudaDeviceId { get; set; }

    public bool UsesOnnx => !string.IsNullOrWhiteSpace(OnnxModelPath);
}
