using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Flare.Data.History;

internal sealed class HistoryDatasetConfiguration : IEntityTypeConfiguration<HistoryDatasetEntity>
{
    public void Configure(EntityTypeBuilder<HistoryDatasetEntity> b)
    {
        b.ToTable("HistoryDatasets");
        b.Property(x => x.Name).HasMaxLength(200).IsRequired();
        b.Property(x => x.Format).HasMaxLength(20).IsRequired();
        b.Property(x => x.ContentSha256).HasMaxLength(64);
        b.Property(x => x.Status).HasConversion<string>().HasMaxLength(20);
        b.Property(x => x.Failure).HasMaxLength(2000);
        b.HasIndex(x => x.ContentSha256).IsUnique();
        b.HasMany(x => x.ModelMap).WithOne().HasForeignKey(x => x.DatasetId).OnDelete(DeleteBehavior.Cascade);
        b.HasMany<HistoryPromptEntity>().WithOne().HasForeignKey(x => x.DatasetId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class HistoryModelMapConfiguration : IEntityTypeConfiguration<HistoryModelMapEntity>
{
    public void Configure(EntityTypeBuilder<HistoryModelMapEntity> b)
    {
        b.ToTable("HistoryModelMap");
        b.Property(x => x.DatasetModel).HasMaxLength(200).IsRequired();
        b.HasIndex(x => new { x.DatasetId, x.DatasetModel }).IsUnique();
        b.HasOne<Registry.ModelEntity>().WithMany().HasForeignKey(x => x.RegistryModelId).OnDelete(DeleteBehavior.SetNull);
    }
}

internal sealed class HistoryPromptConfiguration : IEntityTypeConfiguration<HistoryPromptEntity>
{
    public void Configure(EntityTypeBuilder<HistoryPromptEntity> b)
    {
        b.ToTable("HistoryPrompts");
        b.Property(x => x.Source).HasConversion<string>().HasMaxLength(20);
        b.Property(x => x.ExternalId).HasMaxLength(200);
        b.Property(x => x.PromptSha256).HasMaxLength(64).IsRequired();
        b.HasIndex(x => new { x.DatasetId, x.PromptSha256 }).IsUnique();
        b.HasMany(x => x.Outcomes).WithOne().HasForeignKey(x => x.PromptId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class HistoryOutcomeConfiguration : IEntityTypeConfiguration<HistoryOutcomeEntity>
{
    public void Configure(EntityTypeBuilder<HistoryOutcomeEntity> b)
    {
        b.ToTable("HistoryOutcomes");
        b.Property(x => x.DatasetModel).HasMaxLength(200).IsRequired();
        b.HasIndex(x => new { x.PromptId, x.DatasetModel });
    }
}
