"""政府信息公开指南 pages, written like real guides, with chosen elements left out on purpose.

Elements (names as in issue 4 / ``checks/data/guide_elements.yaml``): 公开范围/主动公开内容, 公开方式,
公开时限, 依申请公开的受理与答复程序, 信息查询方式, 机构名称, 办公地址, 办公时间, 邮政编码, 联系电话,
传真号码, 投诉/监督方式, 信息处理费. A left-out element leaves no trace: no synonym of it (传真 / 邮编 /
处理费 / 收费) may remain anywhere in the guide, or a check that finds it would be right and the truth wrong.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from html import escape

# Words that would reveal a left-out element (so the generator can assert they are really gone).
TRACES: dict[str, tuple[str, ...]] = {
    "传真号码": ("传真",),
    "邮政编码": ("邮政编码", "邮编"),
    "信息处理费": ("处理费", "收费", "费用"),
}


@dataclass(frozen=True)
class Office:
    unit: str  # 青山县教育局
    office: str  # 青山县教育局办公室
    address: str
    postcode: str
    phone: str
    fax: str
    supervisor: str  # 青山县人民政府办公室（县政务公开办）
    supervisor_phone: str


def guide_blocks(o: Office, revised: dt.date, missing: frozenset[str] = frozenset()) -> list[str]:
    """HTML paragraphs of the guide; elements in ``missing`` are left out entirely."""
    def p(text: str) -> str:
        return f"<p>{escape(text)}</p>"

    contact = [
        ("机构名称", f"机构名称：{o.office}"),
        ("办公地址", f"办公地址：{o.address}"),
        ("办公时间", "办公时间：周一至周五上午8:30—12:00，下午14:30—17:30（法定节假日除外）"),
        ("邮政编码", f"邮政编码：{o.postcode}"),
        ("联系电话", f"联系电话：{o.phone}"),
        ("传真号码", f"传真号码：{o.fax}"),
    ]
    out = [
        p(f"（{revised.year}年{revised.month}月修订）"),
        p(f"为了更好地提供政府信息公开服务，根据《中华人民共和国政府信息公开条例》（以下简称《条例》），"
          f"结合本机关实际，编制本指南。本指南每年更新，公民、法人和其他组织可以在{o.unit}"
          f"政府信息公开平台查阅。"),
        "<h3>一、主动公开</h3>",
        p("（一）公开范围。本机关主动公开的政府信息主要包括：机构职能、政策文件、规划计划、财政预决算、"
          "人事信息、通知公告、工作动态等主动公开内容，具体以本机关政府信息公开平台各栏目为准。"),
        p(f"（二）公开方式。本机关主动公开的政府信息通过{o.unit}政府信息公开平台公开，"
          "同时通过政务新媒体、政府信息查阅场所、公告栏等渠道公开。"),
        p("（三）公开时限。属于主动公开范围的政府信息，自该政府信息形成或者变更之日起20个工作日内予以公开。"
          "法律、法规对政府信息公开的期限另有规定的，从其规定。"),
        "<h3>二、依申请公开</h3>",
        p("（一）受理机构。"),
        *[p(text) for key, text in contact if key not in missing],
        p("（二）申请的提出。申请人可以通过当面提交、邮寄、网上申请等方式提出政府信息公开申请，"
          "申请内容应当包括申请人的姓名或者名称、身份证明、联系方式，申请公开的政府信息的名称、文号"
          "或者便于本机关查询的其他特征性描述，以及申请公开的政府信息的形式要求。"),
        p("（三）申请的处理和答复程序。本机关收到申请，能够当场答复的，当场予以答复；不能当场答复的，"
          "自收到申请之日起20个工作日内予以答复；需要延长答复期限的，经政府信息公开工作机构负责人同意"
          "并告知申请人，延长的期限最长不超过20个工作日。"),
    ]
    if "信息处理费" not in missing:
        out.append(p("（四）信息处理费。依据《政府信息公开信息处理费管理办法》（国办函〔2020〕109号），"
                     "申请人申请公开政府信息的数量、频次明显超过合理范围的，本机关可以收取信息处理费。"))
    out += [
        "<h3>三、信息查询方式</h3>",
        p(f"公民、法人和其他组织可以通过{o.unit}政府信息公开平台检索、查阅本机关主动公开的政府信息，"
          "也可以到县档案馆、县图书馆设立的政府信息查阅场所免费查阅。"),
        "<h3>四、监督和救济</h3>",
        p(f"公民、法人或者其他组织认为本机关在政府信息公开工作中侵犯其合法权益的，可以向{o.supervisor}"
          f"投诉、举报，投诉电话：{o.supervisor_phone}；也可以依法申请行政复议或者提起行政诉讼。"),
    ]
    if "信息处理费" in missing:
        # the free-of-charge remark in 信息查询方式 would read as a fee statement: drop it too
        out = [b.replace("免费查阅", "查阅") for b in out]
    text = "".join(out)
    for element in missing:
        for trace in TRACES.get(element, (element,)):
            if trace in text:
                raise AssertionError(f"guide still mentions {trace!r} although {element} was left out")
    return out
