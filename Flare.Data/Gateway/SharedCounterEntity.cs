using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Flare.Data.Gateway;

/// <summary>
/// A counter several Flare hosts on one PostgreSQL database add to (a PORT budget's spending in one period): each host
/// adds its own spending and reads the total. Unused on SQLite, which has one host.
/// </summary>
public sealed class SharedCounterEntity
{
    public string Key { get; set; } = "";
    public long Period { get; set; }
    public double Value { get; set; }
    public DateTime UpdatedUtc { get; set; }
}

internal sealed class SharedCounterConfiguration : IEntityTypeConfiguration<SharedCounterEntity>
{
    public void Configure(EntityTypeBuilder<SharedCounterEntity> b)
    {
        b.ToTable("SharedCounters");
        b.HasKey(x => new { x.Key, x.Period });
        b.Property(x => x.Key).HasMaxLength(200);
        b.HasIndex(x => x.UpdatedUtc);
    }
}
