from rest_framework import serializers


class ProgressRowSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    level = serializers.CharField()
    date = serializers.DateField()
    year = serializers.IntegerField()
    carried = serializers.BooleanField(help_text="这一天没有快照，沿用此前最近一次的数据")
    quota_base = serializers.IntegerField(allow_null=True)
    quota_target = serializers.IntegerField(allow_null=True)
    quota_from_roster = serializers.BooleanField()
    roster = serializers.IntegerField()
    excluded = serializers.IntegerField()
    collected = serializers.IntegerField()
    declared = serializers.IntegerField()
    confirmed = serializers.IntegerField(help_text="已入库：计为参保的人数")
    refunded = serializers.IntegerField()
    money_collected = serializers.DecimalField(max_digits=14, decimal_places=2)
    special_total = serializers.IntegerField()
    special_confirmed = serializers.IntegerField()
    no_record = serializers.IntegerField()
    partial_households = serializers.IntegerField()
    gaps = serializers.IntegerField(help_text="缺口：既未缴费也未登记不参保原因的人数（与花名册同一口径）")
    gap_households = serializers.IntegerField(help_text="有缺口的户数")
    rate = serializers.DecimalField(max_digits=7, decimal_places=2, allow_null=True, help_text="已入库 ÷ 任务数（%）")
    rate_target = serializers.DecimalField(max_digits=7, decimal_places=2, allow_null=True)
    special_rate = serializers.DecimalField(max_digits=7, decimal_places=2, allow_null=True)


class ProgressSerializer(serializers.Serializer):
    source = serializers.ChoiceField(
        choices=["current", "snapshot", "carried", "none"],
        help_text="current：当天数据，随录入更新（县级每分钟更新）；snapshot：当日日终快照；carried：沿用此前最近一次快照",
    )
    as_of = serializers.CharField(help_text="数据截至时间（如“截至今日 10:52（实时）”“截至昨日 17:00（每日快照）”）")
    region = ProgressRowSerializer(allow_null=True)
    children = ProgressRowSerializer(many=True)


class RankingEntrySerializer(serializers.Serializer):
    code = serializers.CharField(source="region.code")
    name = serializers.CharField(source="region.name")
    group = serializers.CharField(source="group.code")
    level = serializers.CharField()
    rank = serializers.IntegerField()
    previous_rank = serializers.IntegerField(allow_null=True)
    change = serializers.IntegerField(allow_null=True)
    confirmed = serializers.IntegerField()
    collected = serializers.IntegerField()
    quota = serializers.IntegerField(allow_null=True)
    rate = serializers.DecimalField(max_digits=7, decimal_places=2, allow_null=True)
    in_bottom = serializers.BooleanField()
    bottom_streak = serializers.IntegerField()
    interview = serializers.BooleanField()
    carried = serializers.BooleanField()


class RankingSerializer(serializers.Serializer):
    county = serializers.CharField(source="county.code")
    date = serializers.DateField()
    year = serializers.IntegerField()
    kind = serializers.CharField()
    tie_break = serializers.CharField()
    entries = RankingEntrySerializer(many=True)
