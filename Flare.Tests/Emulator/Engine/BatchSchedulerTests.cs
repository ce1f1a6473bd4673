using Flare.Emulator.Engine;
using Flare.Emulator.Profiles;

namespace Flare.Tests.Emulator.Engine;

public sealed class BatchSchedulerTests
{
    private static readonly EmulatorProfile Profile = new(
        "test@h100x1", "test/model", 8, "h100", 1, MaxModelLength: 4096, MaxBatchedTokens: 4096, MaxNumSeqs: 256,
        KvCacheTokens: 1000, PrefillBaseMs: 10, PrefillPerTokenMs: 0.1, DecodeBaseMs: 5, DecodePerSequenceMs: 1,
        DecodePerContextTokenMs: 0.01, OutputLogMean: 4, OutputLogStdDev: 1, CalibrationMape: 0, CalibrationRows: 0);

    [Fact]
    public void Step_KvCacheFull_QueuesTheRequestsThatDoNotFit()
    {
        var scheduler = new BatchScheduler(Profile);
        for (var i = 0; i < 4; i++)
        {
            scheduler.Enqueue(new Sequence(200, 200)); // 400 tokens each; 1000 hold two
        }

        scheduler.Step();

        Assert.Equal(StepKind.Prefill, scheduler.LastKind);
        Assert.Equal(2, scheduler.LastBatch);
        Assert.Equal(2, scheduler.RunningCount);
        Assert.Equal(2, scheduler.WaitingCount);
        Assert.Equal(10 + 0.1 * 400, scheduler.LastDurationMs, 9);
    }

    [Fact]
    public void Step_RunningBatch_DecodeTimeGrowsWithBatchAndContext()
    {
        var scheduler = new BatchScheduler(Profile);
        scheduler.Enqueue(new Sequence(100, 10));
        scheduler.Enqueue(new Sequence(50, 10));
        scheduler.Step();

        scheduler.Step();

        Assert.Equal(StepKind.Decode, scheduler.LastKind);
        Assert.Equal(2, scheduler.LastBatch);
        Assert.Equal(101 + 51, scheduler.LastContextTokens);
        Assert.Equal(5 + 1 * 2 + 0.01 * 152, scheduler.LastDurationMs, 9);
    }

    [Fact]
    public void Step_ArrivalWhileDecoding_PrefillsBeforeTheNextDecode()
    {
        var scheduler = new BatchScheduler(Profile);
        var first = new Sequence(10, 5);
        scheduler.Enqueue(first);
        scheduler.Step();
        scheduler.Step();

        scheduler.Enqueue(new Sequence(10, 5));
        scheduler.Step();

        Assert.Equal(StepKind.Prefill, scheduler.LastKind);
        Assert.Equal(2, first.Generated);
    }

    [Fact]
    public void Step_SequenceFinishes_FreesItsKvCacheForTheQueue()
    {
        var scheduler = new BatchScheduler(Profile);
        var sequences = Enumerable.Range(0, 3).Select(_ => new Sequence(200, 300)).ToList(); // 500 each: two fit
        sequences.ForEach(scheduler.Enqueue);

        var steps = 0;
        while (sequences[2].Generated == 0)
        {
            scheduler.Step();
            steps++;
        }

        Assert.True(sequences[0].IsFinished);
        Assert.Equal(1 + 299 + 1, steps); // prefill, 299 decodes to finish the first two, then the third's prefill
    }

    [Fact]
    public void Step_CancelledSequence_LeavesTheBatch()
    {
        var scheduler = new BatchScheduler(Profile);
        var kept = new Sequence(10, 50);
        var cancelled = new Sequence(10, 50);
        scheduler.Enqueue(kept);
        scheduler.Enqueue(cancelled);
        scheduler.Step();

        cancelled.Cancel();
        scheduler.Step();

        Assert.Equal(1, scheduler.LastBatch);
        Assert.Equal(1, scheduler.RunningCount);
    }
}
