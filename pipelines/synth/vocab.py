"""Word lists the generator draws from: given names, place-name stems, register vocabularies.

Given names are weighted so that common ones repeat the way they do in a real city (many 张伟,
王芳, 李秀英): a list of whole popular given names, and characters for composed names.
"""

from __future__ import annotations


def _words(text: str) -> tuple[str, ...]:
    """Space-separated words as a tuple."""
    return tuple(text.split())


# Whole given names, most popular first (per gender); drawn with Zipf-like weights.
POPULAR_MALE = _words(
    "伟 强 磊 军 勇 杰 涛 斌 超 明 刚 平 辉 鹏 华 飞 鑫 波 宇 浩 凯 健 俊 帆 旭 宁 龙 林 阳 建华 "
    "建国 建军 志强 志明 国强 国华 海涛 海波 文斌 俊杰 子豪 浩然 宇轩 家豪 晓东 小龙 永刚 红兵 "
    "卫东 德华 金龙 春生 振华 建平 建新 国庆 秀峰 志刚 立新 新华 洪涛 少华 文华 东升"
)
POPULAR_FEMALE = _words(
    "芳 娜 敏 静 丽 艳 娟 霞 燕 玲 婷 雪 琳 洁 颖 倩 萍 红 梅 莉 秀英 桂英 秀兰 玉兰 桂兰 秀珍 "
    "凤英 玉梅 淑珍 丽娟 海燕 晓燕 春梅 小红 丽华 欣怡 子涵 雨萱 梓涵 思雨 秀梅 玉珍 玉英 桂芳 "
    "金凤 美玲 丽萍 红梅 翠兰 春花 冬梅 秋菊 桂香 晓丽"
)

# Characters for composed given names (one or two characters), most common first.
CHARS_MALE = _words(
    "志 建 国 明 文 德 永 海 俊 伟 晓 家 子 宇 浩 金 春 小 卫 天 新 振 立 红 光 荣 成 兵 学 军 "
    "林 华 平 东 峰 辉 强 刚 波 涛 斌 杰 超 鹏 飞 龙 勇 亮 磊 鑫 宏 庆 福 安 良 胜 世 中 正 长 "
    "义 仁 忠 贵 祥 生 发 才 锋 坤 昊 然 轩 博 睿 泽 豪 凯 晨 阳 毅 帆 江 山 松 柏 树 清 保 "
    "玉 宝 汉 武 兴 旺 利 富 启 元 洪 涛 彬 琦 俊 杨 铭 楠 逸 航 哲 翔 瑞 诚 恒"
)
CHARS_FEMALE = _words(
    "秀 玉 桂 丽 春 小 美 晓 雪 海 红 艳 芳 英 兰 珍 凤 梅 琴 霞 燕 娟 敏 静 婷 玲 慧 琳 洁 颖 "
    "倩 萍 丹 莉 娜 欣 怡 思 雨 梓 涵 萱 佳 嘉 文 淑 月 云 彩 金 银 翠 爱 华 荣 莲 菊 香 妍 悦 "
    "琪 璐 蕾 薇 婉 诗 梦 晴 露 冰 清 瑶 菲 蓉 岚 素 巧 惠 贞 凤 霞 娇 媛 秋 冬 春 夏 亚"
)

# Rare characters (CJK extension A, outside GBK) that some people's names carry: a file with
# them must be written in GB18030. A GBK export writes them as '?' or, typed again by a clerk,
# as a common character of the same sound (RARE_SOUNDALIKE).
RARE_SOUNDALIKE = {"䶮": "艳", "㛃": "洁", "㑇": "舟", "㧑": "辉", "㻞": "斌", "㙟": "朗",
                   "䒟": "丹", "䲜": "叶"}
RARE_CHARS = tuple(RARE_SOUNDALIKE)

# Uyghur-style names written in Chinese transliteration, joined by a middle dot.
MINORITY_MALE = _words(
    "阿卜杜 买买提 艾力 热合曼 阿不都 吐尔逊 艾合买提 玉苏甫 亚森 阿里木 努尔 依明 伊力哈木 "
    "阿迪力 麦麦提 吾斯曼 肉孜 托合提 艾尔肯 阿布拉"
)
MINORITY_FEMALE = _words(
    "阿依古丽 古丽 热依拉 帕提古丽 迪丽拜尔 努尔古丽 阿依努尔 古丽娜尔 米合热古丽 再努尔 "
    "热孜万古丽 祖丽菲娅"
)
MIDDLE_DOT = "·"
OTHER_DOTS = ("•", "．", "・")

# Community (社区) and village (村) name stems; the same stems recur across streets.
COMMUNITY_STEMS = _words(
    "幸福 建设 和平 新华 光明 胜利 红旗 东风 友谊 民主 团结 解放 人民 前进 长江 滨江 花园 朝阳 "
    "青年 工农 东湖 南湖 杨园 劲松 育才 振兴 兴华 永安 平安 东方 中山 百花 桃园 梅园 荷花 丽水 "
    "江滩 惠民 新港 车站 铁路 钢花 紫阳 首义 黄鹤 晴川 汉江 古田 常青 金桥 复兴 向阳 红星 新生"
)
VILLAGE_STEMS = _words(
    "建设 新农 红星 东升 先锋 胜利 团结 幸福 永丰 新华 联合 光明 和平 群益 双河 三合 五一 "
    "李家湾 王家墩 张家岗 刘家畈 陈家咀 杨家台 黄家庙 赵家岭 周家店 吴家湾 徐家墩 孙家岗 "
    "胡家畈 朱家咀 高家台 林家庙 何家岭 郭家店 马家湾 罗家墩"
)
URBAN_STREET_WORDS = ("路", "街", "大道")
ROAD_STEMS = _words(
    "解放 中山 建设 和平 友谊 民主 青年 胜利 沿江 珞喻 武珞 雄楚 光谷 汉阳 鹦鹉 江汉 京汉 "
    "发展 新华 唐家墩 后湖 黄浦 工农 和平 临江 东风 金银湖 文化 车城"
)

RELATIONS_NEAR = ("配偶", "父亲", "母亲", "子", "女", "兄弟姐妹", "祖父母", "外祖父母", "孙子",
                  "孙女", "外孙子", "外孙女")

CASEWORKER_ROLES = ("民政专干", "低保经办人")
URBAN_CADRE_ROLES = ("居委会主任", "居委会委员", "社区党委书记", "社区网格员")
RURAL_CADRE_ROLES = ("村委会主任", "村委会委员", "村党支部书记", "村会计")

VEHICLE_ORDINARY = ("小型轿车", "小型普通客车", "轻型货车", "小型越野客车", "中型货车",
                    "轻型厢式货车", "小型面包车")
VEHICLE_EXEMPT = ("摩托车", "残疾人专用车")
VEHICLE_ACTIVE = ("正常", "逾期未检验")
VEHICLE_DEREGISTERED = ("注销", "报废")

USAGE_RESIDENTIAL = ("住宅", "成套住宅")
USAGE_NONRESIDENTIAL = ("商业", "办公", "商服")
USAGE_OTHER = ("车位",)

ROLE_COUNTED = ("法定代表人", "股东")
ROLE_NOT_COUNTED = ("高级管理人员", "监事")
STATUS_ACTIVE = ("存续", "在业")
STATUS_CLOSED = ("注销", "吊销")
COMPANY_WORDS = _words(
    "鑫源 华兴 宏达 天成 恒通 长江 楚天 金桥 江城 汉星 荆楚 东湖 光谷 晨曦 和顺 盛达 永泰 "
    "德润 信达 隆昌"
)
COMPANY_TRADES = ("商贸", "建材", "餐饮", "物流", "科技", "装饰工程", "农业开发", "汽车服务",
                  "劳务", "电子", "水产养殖", "家政服务")

PENSION_COUNTED = ("城镇职工基本养老保险", "机关事业单位养老保险")
PENSION_NOT_COUNTED = ("城乡居民基本养老保险基础养老金", "优待抚恤金")

EMPLOYER_SUFFIXES = ("人民政府", "民政局", "教育局", "卫生健康局", "城市管理执法局", "财政局",
                     "人力资源和社会保障局", "住房和城市更新局", "园林和林业局")
SCHOOL_WORDS = ("第一中学", "第二中学", "实验小学", "中心小学", "第三中学", "人民医院",
                "中医医院", "妇幼保健院", "社区卫生服务中心")
LOW_INCOME_GROUPS = ("低保边缘家庭", "刚性支出困难家庭", "重度残疾人", "防止返贫监测对象")
