from django import forms

from .importer import LIST_KINDS

ERR_FILE_REQUIRED = "请选择名单文件。"


class DepartureImportForm(forms.Form):
    year = forms.TypedChoiceField(label="待遇年度", coerce=int, choices=())
    list_kind = forms.ChoiceField(label="名单类型", choices=LIST_KINDS,
                                  help_text="文件中有“名单类型”列的，以每行所填为准")
    source_list = forms.CharField(label="名单名称", max_length=200, required=False, help_text="如：民政局2024年11月死亡名单；不填则用文件名")
    file = forms.FileField(label="名单文件", error_messages={"required": ERR_FILE_REQUIRED},
                           help_text="列：姓名、身份证号码，可选：名单类型、日期（死亡名单须填死亡日期）")

    def __init__(self, *args, years=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["year"].choices = [(y, f"{y}年度") for y in years]
